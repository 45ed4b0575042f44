//! JSON Web Keys (RFC 7517/7518): import of private and public keys, export of public keys,
//! and RFC 7638 thumbprints.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPrivateKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::parse::{PrivateKey, PublicKey, key_error, rsa_public};
use crate::algorithm::Algorithm;
use crate::error::ConfigError;

/// What a JWK held.
pub(crate) enum Imported {
    /// `kty: oct`: a shared secret.
    Secret(Zeroizing<Vec<u8>>),
    /// A private key.
    Private(PrivateKey),
    /// A public key.
    Public(PublicKey),
}

/// A parsed JWK and its `kid`.
pub(crate) struct ImportedJwk {
    pub(crate) key: Imported,
    pub(crate) kid: Option<String>,
}

/// Parse `jwk` for `algorithm`: checks `alg` and `use` if present, reads `kid`, and
/// decodes the key members of its `kty`. Private members are read when present.
pub(crate) fn import(algorithm: Algorithm, jwk: &Value) -> Result<ImportedJwk, ConfigError> {
    let obj = jwk.as_object().ok_or_else(|| key_error("the JWK is not a JSON object"))?;
    if let Some(alg) = obj.get("alg") {
        let alg = alg.as_str().ok_or_else(|| key_error("the JWK member \"alg\" is not a string"))?;
        if alg != algorithm.as_str() {
            return Err(key_error(format!(
                "the JWK is for {alg}, but the key is configured for {algorithm}"
            )));
        }
    }
    if let Some(usage) = obj.get("use")
        && usage.as_str() != Some("sig")
    {
        return Err(key_error(format!("the JWK's \"use\" is {usage}, but signing keys need \"sig\"")));
    }
    let kid = match obj.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(key_error("the JWK member \"kid\" is not a string")),
    };
    let kty = text(obj, "kty")?;
    let key = match kty {
        "oct" => Imported::Secret(bytes(obj, "k")?),
        "RSA" => rsa(obj)?,
        "EC" => ec(obj)?,
        "OKP" => okp(obj)?,
        other => return Err(key_error(format!("unsupported JWK key type \"{other}\""))),
    };
    Ok(ImportedJwk { key, kid })
}

fn text<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, ConfigError> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(key_error(format!("the JWK member \"{name}\" is not a string"))),
        None => Err(key_error(format!("the JWK has no \"{name}\" member"))),
    }
}

/// A base64url member, decoded.
fn bytes(obj: &Map<String, Value>, name: &str) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let encoded = text(obj, name)?;
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map(Zeroizing::new)
        .map_err(|_| key_error(format!("the JWK member \"{name}\" is not base64url without padding")))
}

/// A base64url member of exactly `len` bytes.
fn fixed(obj: &Map<String, Value>, name: &str, len: usize) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let value = bytes(obj, name)?;
    if value.len() != len {
        return Err(key_error(format!("the JWK member \"{name}\" must be {len} bytes, got {}", value.len())));
    }
    Ok(value)
}

fn uint(obj: &Map<String, Value>, name: &str) -> Result<BigUint, ConfigError> {
    Ok(BigUint::from_bytes_be(&bytes(obj, name)?))
}

fn rsa(obj: &Map<String, Value>) -> Result<Imported, ConfigError> {
    let n = uint(obj, "n")?;
    let e = uint(obj, "e")?;
    if !obj.contains_key("d") {
        return rsa_public(n, e).map(Imported::Public);
    }
    let d = uint(obj, "d")?;
    let primes = match (obj.contains_key("p"), obj.contains_key("q")) {
        (true, true) => vec![uint(obj, "p")?, uint(obj, "q")?],
        (false, false) => Vec::new(),
        _ => return Err(key_error("the RSA JWK has only one of \"p\" and \"q\"")),
    };
    if obj.contains_key("oth") {
        return Err(key_error("multi-prime RSA JWKs (\"oth\") are not supported"));
    }
    let key = RsaPrivateKey::from_components(n, e, d, primes)
        .map_err(|e| key_error(format!("invalid RSA private JWK: {e}")))?;
    Ok(Imported::Private(PrivateKey::Rsa(Box::new(key))))
}

fn ec(obj: &Map<String, Value>) -> Result<Imported, ConfigError> {
    let crv = text(obj, "crv")?;
    let len = match crv {
        "P-256" => 32,
        "P-384" => 48,
        "P-521" => 66,
        other => return Err(key_error(format!("unsupported JWK curve \"{other}\" for kty EC"))),
    };
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(0x04);
    point.extend_from_slice(&fixed(obj, "x", len)?);
    point.extend_from_slice(&fixed(obj, "y", len)?);
    let invalid_point = || key_error(format!("the JWK's x and y are not a point on {crv}"));
    let public = match crv {
        "P-256" => PublicKey::P256(p256::PublicKey::from_sec1_bytes(&point).map_err(|_| invalid_point())?),
        "P-384" => PublicKey::P384(p384::PublicKey::from_sec1_bytes(&point).map_err(|_| invalid_point())?),
        _ => PublicKey::P521(p521::PublicKey::from_sec1_bytes(&point).map_err(|_| invalid_point())?),
    };
    if !obj.contains_key("d") {
        return Ok(Imported::Public(public));
    }
    let d = fixed(obj, "d", len)?;
    let invalid_d = || key_error(format!("the JWK member \"d\" is not a valid {crv} private key"));
    let private = match crv {
        "P-256" => PrivateKey::P256(p256::SecretKey::from_slice(&d).map_err(|_| invalid_d())?),
        "P-384" => PrivateKey::P384(p384::SecretKey::from_slice(&d).map_err(|_| invalid_d())?),
        _ => PrivateKey::P521(p521::SecretKey::from_slice(&d).map_err(|_| invalid_d())?),
    };
    check_pair(&private, &public)?;
    Ok(Imported::Private(private))
}

fn okp(obj: &Map<String, Value>) -> Result<Imported, ConfigError> {
    match text(obj, "crv")? {
        "Ed25519" => {}
        "Ed448" => return Err(key_error("Ed448 keys are not supported; EdDSA here means Ed25519")),
        other => return Err(key_error(format!("unsupported JWK curve \"{other}\" for kty OKP"))),
    }
    let x = fixed(obj, "x", 32)?;
    let mut raw = [0u8; 32];
    raw.copy_from_slice(&x);
    let public = ed25519_dalek::VerifyingKey::from_bytes(&raw)
        .map_err(|_| key_error("the JWK member \"x\" is not a valid Ed25519 public key"))?;
    if !obj.contains_key("d") {
        return Ok(Imported::Public(PublicKey::Ed25519(public)));
    }
    let d = fixed(obj, "d", 32)?;
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&d);
    let private = PrivateKey::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)));
    check_pair(&private, &PublicKey::Ed25519(public))?;
    Ok(Imported::Private(private))
}

/// The public members of a JWK must be those of its private key.
fn check_pair(private: &PrivateKey, public: &PublicKey) -> Result<(), ConfigError> {
    let derived = private.public_key();
    let same = match (&derived, public) {
        (PublicKey::P256(a), PublicKey::P256(b)) => a == b,
        (PublicKey::P384(a), PublicKey::P384(b)) => a == b,
        (PublicKey::P521(a), PublicKey::P521(b)) => a == b,
        (PublicKey::Ed25519(a), PublicKey::Ed25519(b)) => a == b,
        _ => false,
    };
    if same { Ok(()) } else { Err(key_error("the JWK's public members do not match its private key")) }
}

/// The key members of a public key's JWK, in the order `kty`, (`crv`), then the rest.
fn members(key: &PublicKey) -> Vec<(&'static str, String)> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match key {
        PublicKey::Rsa(k) => vec![
            ("kty", "RSA".to_owned()),
            ("n", b64(&k.n().to_bytes_be())),
            ("e", b64(&k.e().to_bytes_be())),
        ],
        PublicKey::P256(k) => {
            let point = k.to_encoded_point(false);
            ec_members("P-256", point.x().map(|x| &x[..]), point.y().map(|y| &y[..]))
        }
        PublicKey::P384(k) => {
            let point = k.to_encoded_point(false);
            ec_members("P-384", point.x().map(|x| &x[..]), point.y().map(|y| &y[..]))
        }
        PublicKey::P521(k) => {
            let point = k.to_encoded_point(false);
            ec_members("P-521", point.x().map(|x| &x[..]), point.y().map(|y| &y[..]))
        }
        PublicKey::Ed25519(k) => {
            vec![("kty", "OKP".to_owned()), ("crv", "Ed25519".to_owned()), ("x", b64(k.as_bytes()))]
        }
    }
}

/// `x` and `y` of an uncompressed point (always present: `to_encoded_point(false)` is never
/// compressed, and the identity cannot be a public key).
fn ec_members(crv: &str, x: Option<&[u8]>, y: Option<&[u8]>) -> Vec<(&'static str, String)> {
    let b64 = |c: Option<&[u8]>| URL_SAFE_NO_PAD.encode(c.unwrap_or_default());
    vec![("kty", "EC".to_owned()), ("crv", crv.to_owned()), ("x", b64(x)), ("y", b64(y))]
}

/// The public JWK: `kty`, `use`, `alg`, `kid` (if any), then the key members.
pub(crate) fn export(algorithm: Algorithm, kid: Option<&str>, key: &PublicKey) -> Value {
    let mut members = members(key).into_iter();
    let mut obj = Map::new();
    if let Some((name, kty)) = members.next() {
        obj.insert(name.to_owned(), Value::String(kty));
    }
    obj.insert("use".to_owned(), Value::from("sig"));
    obj.insert("alg".to_owned(), Value::from(algorithm.as_str()));
    if let Some(kid) = kid {
        obj.insert("kid".to_owned(), Value::from(kid));
    }
    for (name, value) in members {
        obj.insert(name.to_owned(), Value::String(value));
    }
    Value::Object(obj)
}

/// RFC 7638 thumbprint of a public key: SHA-256 over the required members in
/// lexicographic order, without whitespace, as base64url.
pub(crate) fn thumbprint(key: &PublicKey) -> String {
    let mut members = members(key);
    members.sort_by_key(|(name, _)| *name);
    let pairs: Vec<(&str, &str)> = members.iter().map(|(name, value)| (*name, value.as_str())).collect();
    digest_members(&pairs)
}

/// RFC 7638 thumbprint of an HMAC secret (`{"k":...,"kty":"oct"}`).
pub(crate) fn secret_thumbprint(secret: &[u8]) -> String {
    let k = Zeroizing::new(URL_SAFE_NO_PAD.encode(secret));
    digest_members(&[("k", k.as_str()), ("kty", "oct")])
}

fn digest_members(members: &[(&str, &str)]) -> String {
    // Every value is base64url or a fixed ASCII name, so nothing needs JSON escaping.
    let mut json = Zeroizing::new(String::from("{"));
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push('"');
        json.push_str(name);
        json.push_str("\":\"");
        json.push_str(value);
        json.push('"');
    }
    json.push('}');
    URL_SAFE_NO_PAD.encode(Sha256::digest(json.as_bytes()))
}
