//! jsonwebtoken 11.1 `encode` / `decode` on the simplejwt vector keys with the provider chosen
//! by `BACKEND=rust_crypto|aws_lc_rs` (both are compiled in; one is installed at start).
use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, crypto::CryptoProvider};
use serde_json::{Map, Value, json};

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/vectors.json"))
        .unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

fn keys(alg: Algorithm, v: &Value) -> (EncodingKey, DecodingKey) {
    let s = v["signing_key"].as_str().unwrap().as_bytes();
    let p = v["verifying_key"].as_str().map(str::as_bytes);
    match alg {
        Algorithm::HS256 => (EncodingKey::from_secret(s), DecodingKey::from_secret(s)),
        Algorithm::RS256 | Algorithm::PS256 => {
            (EncodingKey::from_rsa_pem(s).unwrap(), DecodingKey::from_rsa_pem(p.unwrap()).unwrap())
        }
        Algorithm::ES256 | Algorithm::ES384 => {
            (EncodingKey::from_ec_pem(s).unwrap(), DecodingKey::from_ec_pem(p.unwrap()).unwrap())
        }
        Algorithm::EdDSA => {
            (EncodingKey::from_ed_pem(s).unwrap(), DecodingKey::from_ed_pem(p.unwrap()).unwrap())
        }
        _ => unreachable!(),
    }
}

fn main() {
    let backend = std::env::var("BACKEND").unwrap_or_else(|_| "rust_crypto".into());
    let provider: &'static CryptoProvider = match backend.as_str() {
        "aws_lc_rs" => &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        _ => &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
    };
    provider.install_default().unwrap();
    let claims: Map<String, Value> = match json!({"token_type": "refresh", "exp": 1767312000, "iat": 1767225600,
        "jti": "00000000000040018000000000000002", "user_id": "42"})
    {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let all = vectors();
    for (alg, name) in [
        (Algorithm::HS256, "HS256"),
        (Algorithm::RS256, "RS256"),
        (Algorithm::PS256, "PS256"),
        (Algorithm::ES256, "ES256"),
        (Algorithm::ES384, "ES384"),
        (Algorithm::EdDSA, "EdDSA"),
    ] {
        let v = all.iter().find(|v| v["algorithm"] == name).unwrap();
        let (ek, dk) = keys(alg, v);
        let header = Header::new(alg);
        let token = jsonwebtoken::encode(&header, &claims, &ek).unwrap();
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp"]);
        jsonwebtoken::decode::<Map<String, Value>>(&token, &dk, &validation).unwrap();
        let mut group = c.benchmark_group(format!("{backend}-{name}"));
        group.bench_function("encode", |b| {
            b.iter(|| jsonwebtoken::encode(&header, black_box(&claims), &ek).unwrap())
        });
        group.bench_function("decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map<String, Value>>(black_box(&token), &dk, &validation).unwrap()
            })
        });
        group.finish();
    }
    c.final_summary();
}
