//! The same primitives with keys parsed once (what jsonwebtoken's rust_crypto provider
//! re-does on every call), to size the provider's per-call overhead.
use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier};
use serde_json::Value;

fn key(alg: &str) -> (String, String) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/vectors.json"))
        .unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let v = file["vectors"].as_array().unwrap().iter().find(|v| v["algorithm"] == alg).unwrap().clone();
    (v["signing_key"].as_str().unwrap().to_owned(), v["verifying_key"].as_str().unwrap().to_owned())
}

fn main() {
    let msg = vec![b'a'; 200];
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let (s, p) = key("ES256");
    let sk = p256::ecdsa::SigningKey::from_pkcs8_pem(&s).unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_public_key_pem(&p).unwrap();
    let sig: p256::ecdsa::Signature = sk.sign(&msg);
    c.bench_function("direct-ES256/sign", |b| {
        b.iter(|| {
            let s: p256::ecdsa::Signature = sk.sign(black_box(&msg));
            s
        })
    });
    c.bench_function("direct-ES256/verify", |b| b.iter(|| vk.verify(black_box(&msg), &sig).is_ok()));
    let (s, p) = key("ES384");
    let sk = p384::ecdsa::SigningKey::from_pkcs8_pem(&s).unwrap();
    let vk = p384::ecdsa::VerifyingKey::from_public_key_pem(&p).unwrap();
    let sig: p384::ecdsa::Signature = sk.sign(&msg);
    c.bench_function("direct-ES384/sign", |b| {
        b.iter(|| {
            let s: p384::ecdsa::Signature = sk.sign(black_box(&msg));
            s
        })
    });
    c.bench_function("direct-ES384/verify", |b| b.iter(|| vk.verify(black_box(&msg), &sig).is_ok()));
    let (s, p) = key("RS256");
    let rk = rsa::RsaPrivateKey::from_pkcs8_pem(&s).unwrap();
    let pk = rsa::RsaPublicKey::from_public_key_pem(&p).unwrap();
    let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rk);
    let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
    let mut rng = rand_core_rng();
    let sig = sk.sign_with_rng(&mut rng, &msg);
    c.bench_function("direct-RS256/sign", |b| {
        b.iter(|| sk.sign_with_rng(&mut rng, black_box(&msg)).to_vec())
    });
    c.bench_function("direct-RS256/verify", |b| b.iter(|| vk.verify(black_box(&msg), &sig).is_ok()));
    let (s, p) = key("EdDSA");
    let sk = ed25519_dalek::SigningKey::from_pkcs8_pem(&s).unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_public_key_pem(&p).unwrap();
    let sig = sk.sign(&msg);
    c.bench_function("direct-EdDSA/sign", |b| b.iter(|| sk.sign(black_box(&msg))));
    c.bench_function("direct-EdDSA/verify", |b| b.iter(|| vk.verify(black_box(&msg), &sig).is_ok()));
    c.final_summary();
}

/// A ChaCha-free deterministic RNG is fine for timing RSA blinding.
fn rand_core_rng() -> Xorshift {
    Xorshift(0x9e37_79b9_7f4a_7c15)
}

struct Xorshift(u64);
impl rsa::rand_core::RngCore for Xorshift {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        for c in d.chunks_mut(8) {
            let n = self.next_u64().to_le_bytes();
            c.copy_from_slice(&n[..c.len()]);
        }
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(d);
        Ok(())
    }
}
impl rsa::rand_core::CryptoRng for Xorshift {}
