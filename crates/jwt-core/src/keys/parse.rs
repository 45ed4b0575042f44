//! PEM and DER parsing into typed keys.
//!
//! The key type is read from the encoding itself (the PKCS#8 / SPKI algorithm identifier, the
//! PEM label, or the SEC1 structure), so that a key of the wrong type gets a message naming
//! both what the algorithm needs and what was given, instead of a generic parse error.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::pkcs8::der::Decode as _;
use p256::pkcs8::{
    AssociatedOid as _, DecodePrivateKey as _, DecodePublicKey as _, ObjectIdentifier, PrivateKeyInfo,
    spki::SubjectPublicKeyInfoRef,
};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, KeyFamily};
use crate::error::ConfigError;

/// Largest RSA modulus we load. `rsa` (and so jsonwebtoken's verifier) refuses larger public
/// keys, so accepting one would make every token fail verification.
pub(crate) const RSA_MAX_BITS: usize = 4096;
/// Smallest RSA modulus we load (RFC 8725 §3.5, NIST SP 800-131A).
pub(crate) const RSA_MIN_BITS: usize = 2048;

/// `id-Ed448`, named only to give a clear error.
const ED448_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
/// `id-RSASSA-PSS` (PSS-restricted RSA keys), named only to give a clear error.
const RSA_PSS_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// `secp256k1` (ES256K), named only to give a clear error.
const SECP256K1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");

/// A parsed asymmetric private key.
#[derive(Clone)]
pub(crate) enum PrivateKey {
    /// RSA (boxed: it is much larger than the others).
    Rsa(Box<RsaPrivateKey>),
    /// NIST P-256.
    P256(p256::SecretKey),
    /// NIST P-384.
    P384(p384::SecretKey),
    /// NIST P-521.
    P521(p521::SecretKey),
    /// Ed25519.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl PrivateKey {
    /// The family of this key.
    pub(crate) fn family(&self) -> KeyFamily {
        match self {
            Self::Rsa(_) => KeyFamily::Rsa,
            Self::P256(_) => KeyFamily::P256,
            Self::P384(_) => KeyFamily::P384,
            Self::P521(_) => KeyFamily::P521,
            Self::Ed25519(_) => KeyFamily::Ed25519,
        }
    }

    /// The public half.
    pub(crate) fn public_key(&self) -> PublicKey {
        match self {
            Self::Rsa(k) => PublicKey::Rsa(k.to_public_key()),
            Self::P256(k) => PublicKey::P256(k.public_key()),
            Self::P384(k) => PublicKey::P384(k.public_key()),
            Self::P521(k) => PublicKey::P521(k.public_key()),
            Self::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }
}

/// A parsed asymmetric public key.
#[derive(Clone)]
pub(crate) enum PublicKey {
    /// RSA.
    Rsa(RsaPublicKey),
    /// NIST P-256.
    P256(p256::PublicKey),
    /// NIST P-384.
    P384(p384::PublicKey),
    /// NIST P-521.
    P521(p521::PublicKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// The family of this key.
    pub(crate) fn family(&self) -> KeyFamily {
        match self {
            Self::Rsa(_) => KeyFamily::Rsa,
            Self::P256(_) => KeyFamily::P256,
            Self::P384(_) => KeyFamily::P384,
            Self::P521(_) => KeyFamily::P521,
            Self::Ed25519(_) => KeyFamily::Ed25519,
        }
    }
}

/// "RSA", "P-256", ... for messages.
pub(crate) fn family_name(family: KeyFamily) -> &'static str {
    match family {
        KeyFamily::Hmac => "HMAC",
        KeyFamily::Rsa => "RSA",
        KeyFamily::P256 => "P-256",
        KeyFamily::P384 => "P-384",
        KeyFamily::P521 => "P-521",
        KeyFamily::Ed25519 => "Ed25519",
    }
}

/// "an RSA key", "a P-256 key", ... for messages.
pub(crate) fn describe(family: KeyFamily) -> &'static str {
    match family {
        KeyFamily::Hmac => "an HMAC secret",
        KeyFamily::Rsa => "an RSA key",
        KeyFamily::P256 => "a P-256 key",
        KeyFamily::P384 => "a P-384 key",
        KeyFamily::P521 => "a P-521 key",
        KeyFamily::Ed25519 => "an Ed25519 key",
    }
}

pub(crate) fn key_error(message: impl Into<String>) -> ConfigError {
    ConfigError::Key(message.into())
}

/// One `-----BEGIN <label>-----` ... `-----END <label>-----` block, decoded.
struct PemBlock {
    label: String,
    der: Zeroizing<Vec<u8>>,
}

/// Every PEM block in `text`, except OpenSSL's `EC PARAMETERS` blocks. Tolerates CRLF line
/// endings, indentation, and text around the blocks.
fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, ConfigError> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, Zeroizing<String>)> = None;
    for line in text.lines() {
        let line = line.trim();
        match &mut current {
            None => {
                if let Some(label) = boundary(line, "-----BEGIN ") {
                    current = Some((label.to_owned(), Zeroizing::new(String::new())));
                }
            }
            Some((label, body)) => {
                if let Some(end) = boundary(line, "-----END ") {
                    if end != label.as_str() {
                        return Err(key_error(format!(
                            "the PEM block \"{label}\" ends with a mismatched END line \"{end}\""
                        )));
                    }
                    let der = STANDARD
                        .decode(body.as_bytes())
                        .map_err(|_| key_error(format!("the PEM block \"{label}\" is not valid base64")))?;
                    blocks.push(PemBlock { label: std::mem::take(label), der: Zeroizing::new(der) });
                    current = None;
                } else if line.starts_with("-----BEGIN ") {
                    return Err(key_error(format!("the PEM block \"{label}\" has no END line")));
                } else if line.contains(':') {
                    return Err(key_error(
                        "encrypted PEM keys are not supported; decrypt the key first (openssl pkey -in key.pem -out plain.pem)",
                    ));
                } else {
                    body.push_str(line);
                }
            }
        }
    }
    if let Some((label, _)) = current {
        return Err(key_error(format!("the PEM block \"{label}\" has no END line")));
    }
    blocks.retain(|b| b.label != "EC PARAMETERS");
    Ok(blocks)
}

fn boundary<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix("-----")
}

/// The single key block of a PEM document.
fn single_block(pem: &str) -> Result<PemBlock, ConfigError> {
    let mut blocks = pem_blocks(pem)?;
    match blocks.len() {
        0 => Err(key_error("the key is not PEM: no \"-----BEGIN ...-----\" line found")),
        1 => Ok(blocks.remove(0)),
        n => Err(key_error(format!("the PEM document holds {n} keys; give exactly one"))),
    }
}

/// A private key from PEM: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or
/// `EC PRIVATE KEY` (SEC1).
pub(crate) fn private_from_pem(pem: &str) -> Result<PrivateKey, ConfigError> {
    let block = single_block(pem)?;
    match block.label.as_str() {
        "PRIVATE KEY" => private_from_pkcs8(&block.der),
        "RSA PRIVATE KEY" => private_from_pkcs1(&block.der),
        "EC PRIVATE KEY" => private_from_sec1(&block.der),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(key_error(format!(
            "the PEM holds a public key (\"{}\"), but signing needs the private key",
            block.label
        ))),
        label => Err(unsupported_pem_label(label, "PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY")),
    }
}

/// A public key from PEM: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
pub(crate) fn public_from_pem(pem: &str) -> Result<PublicKey, ConfigError> {
    let block = single_block(pem)?;
    match block.label.as_str() {
        "PUBLIC KEY" => public_from_spki(&block.der),
        "RSA PUBLIC KEY" => public_from_pkcs1(&block.der),
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => Err(key_error(format!(
            "the PEM holds a private key (\"{}\"); verifiers need only the public key (\"PUBLIC KEY\")",
            block.label
        ))),
        "CERTIFICATE" => Err(key_error(
            "certificates are not supported; extract the public key (openssl x509 -pubkey -noout -in cert.pem)",
        )),
        label => Err(unsupported_pem_label(label, "PUBLIC KEY or RSA PUBLIC KEY")),
    }
}

fn unsupported_pem_label(label: &str, expected: &str) -> ConfigError {
    match label {
        "ENCRYPTED PRIVATE KEY" => key_error(
            "encrypted PEM keys are not supported; decrypt the key first (openssl pkey -in key.pem -out plain.pem)",
        ),
        "OPENSSH PRIVATE KEY" => key_error(
            "OpenSSH private keys are not supported; convert the key to PKCS#8 (ssh-keygen -p -m PKCS8 -f key)",
        ),
        "CERTIFICATE" => key_error("the PEM holds a certificate, but signing needs the private key"),
        _ => key_error(format!("unsupported PEM block \"{label}\"; expected {expected}")),
    }
}

/// A private key from DER: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), detected from the structure.
pub(crate) fn private_from_der(der: &[u8]) -> Result<PrivateKey, ConfigError> {
    if PrivateKeyInfo::from_der(der).is_ok() {
        return private_from_pkcs8(der);
    }
    if rsa::pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        return private_from_pkcs1(der);
    }
    if let Ok(key) = private_from_sec1(der) {
        return Ok(key);
    }
    if SubjectPublicKeyInfoRef::from_der(der).is_ok() || rsa::pkcs1::RsaPublicKey::from_der(der).is_ok() {
        return Err(key_error("the DER holds a public key, but signing needs the private key"));
    }
    Err(key_error("the DER is not a private key in PKCS#8, PKCS#1 or SEC1 form"))
}

/// A public key from DER: SPKI or PKCS#1 (RSA), detected from the structure.
pub(crate) fn public_from_der(der: &[u8]) -> Result<PublicKey, ConfigError> {
    if SubjectPublicKeyInfoRef::from_der(der).is_ok() {
        return public_from_spki(der);
    }
    if rsa::pkcs1::RsaPublicKey::from_der(der).is_ok() {
        return public_from_pkcs1(der);
    }
    if PrivateKeyInfo::from_der(der).is_ok() || rsa::pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        return Err(key_error(
            "the DER holds a private key; verifiers need only the public key (SubjectPublicKeyInfo)",
        ));
    }
    Err(key_error("the DER is not a public key in SubjectPublicKeyInfo or PKCS#1 form"))
}

/// What an algorithm OID (plus curve parameter) says the key is.
fn family_of(oid: ObjectIdentifier, curve: Option<ObjectIdentifier>) -> Result<KeyFamily, ConfigError> {
    if oid == rsa::pkcs1::ALGORITHM_OID {
        Ok(KeyFamily::Rsa)
    } else if oid == ed25519_dalek::pkcs8::ALGORITHM_OID {
        Ok(KeyFamily::Ed25519)
    } else if oid == p256::elliptic_curve::ALGORITHM_OID {
        match curve {
            Some(c) if c == p256::NistP256::OID => Ok(KeyFamily::P256),
            Some(c) if c == p384::NistP384::OID => Ok(KeyFamily::P384),
            Some(c) if c == p521::NistP521::OID => Ok(KeyFamily::P521),
            Some(c) if c == SECP256K1_OID => {
                Err(key_error("secp256k1 (ES256K) keys are not supported; use P-256, P-384 or P-521"))
            }
            Some(c) => Err(key_error(format!("the elliptic curve with OID {c} is not supported"))),
            None => Err(key_error("the EC key does not name its curve")),
        }
    } else if oid == ED448_OID {
        Err(key_error("Ed448 keys are not supported; EdDSA here means Ed25519"))
    } else if oid == RSA_PSS_OID {
        Err(key_error(
            "RSA-PSS-restricted keys are not supported; use a plain RSA key (rsaEncryption) for PS256/PS384/PS512",
        ))
    } else {
        Err(key_error(format!("unsupported key type (algorithm OID {oid})")))
    }
}

fn private_from_pkcs8(der: &[u8]) -> Result<PrivateKey, ConfigError> {
    let info = PrivateKeyInfo::from_der(der)
        .map_err(|e| key_error(format!("the key is not a valid PKCS#8 private key: {e}")))?;
    let family = family_of(info.algorithm.oid, info.algorithm.parameters_oid().ok())?;
    let invalid = |e: &dyn std::fmt::Display| {
        key_error(format!("invalid {} private key in PKCS#8: {e}", family_name(family)))
    };
    Ok(match family {
        KeyFamily::Rsa => {
            PrivateKey::Rsa(Box::new(RsaPrivateKey::from_pkcs8_der(der).map_err(|e| invalid(&e))?))
        }
        KeyFamily::P256 => PrivateKey::P256(p256::SecretKey::from_pkcs8_der(der).map_err(|e| invalid(&e))?),
        KeyFamily::P384 => PrivateKey::P384(p384::SecretKey::from_pkcs8_der(der).map_err(|e| invalid(&e))?),
        KeyFamily::P521 => PrivateKey::P521(p521::SecretKey::from_pkcs8_der(der).map_err(|e| invalid(&e))?),
        KeyFamily::Ed25519 => PrivateKey::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|e| invalid(&e))?,
        )),
        KeyFamily::Hmac => return Err(key_error("an HMAC secret cannot be read from PKCS#8")),
    })
}

fn private_from_pkcs1(der: &[u8]) -> Result<PrivateKey, ConfigError> {
    let key = RsaPrivateKey::from_pkcs1_der(der)
        .map_err(|e| key_error(format!("invalid PKCS#1 RSA private key: {e}")))?;
    Ok(PrivateKey::Rsa(Box::new(key)))
}

/// SEC1 `ECPrivateKey`. The `sec1` crate does not check the curve parameter, so the curves
/// are tried from the smallest up: a scalar longer than a curve's field never parses as that
/// curve, and an embedded public key must have that curve's length and match the scalar.
fn private_from_sec1(der: &[u8]) -> Result<PrivateKey, ConfigError> {
    if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P256(k));
    }
    if let Ok(k) = p384::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P384(k));
    }
    if let Ok(k) = p521::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P521(k));
    }
    Err(key_error("invalid SEC1 EC private key (or a curve other than P-256, P-384 and P-521)"))
}

fn public_from_spki(der: &[u8]) -> Result<PublicKey, ConfigError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| key_error(format!("the key is not a valid SubjectPublicKeyInfo: {e}")))?;
    let family = family_of(spki.algorithm.oid, spki.algorithm.parameters_oid().ok())?;
    let invalid =
        |e: &dyn std::fmt::Display| key_error(format!("invalid {} public key: {e}", family_name(family)));
    Ok(match family {
        KeyFamily::Rsa => {
            let bits = spki
                .subject_public_key
                .as_bytes()
                .ok_or_else(|| key_error("invalid RSA public key: the bit string is not octet aligned"))?;
            return public_from_pkcs1(bits);
        }
        KeyFamily::P256 => {
            PublicKey::P256(p256::PublicKey::from_public_key_der(der).map_err(|e| invalid(&e))?)
        }
        KeyFamily::P384 => {
            PublicKey::P384(p384::PublicKey::from_public_key_der(der).map_err(|e| invalid(&e))?)
        }
        KeyFamily::P521 => {
            PublicKey::P521(p521::PublicKey::from_public_key_der(der).map_err(|e| invalid(&e))?)
        }
        KeyFamily::Ed25519 => PublicKey::Ed25519(
            ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|e| invalid(&e))?,
        ),
        KeyFamily::Hmac => return Err(key_error("an HMAC secret cannot be read from a public key")),
    })
}

/// PKCS#1 `RSAPublicKey`, with our own size bounds (checked later) rather than `rsa`'s.
fn public_from_pkcs1(der: &[u8]) -> Result<PublicKey, ConfigError> {
    let raw = rsa::pkcs1::RsaPublicKey::from_der(der)
        .map_err(|e| key_error(format!("invalid PKCS#1 RSA public key: {e}")))?;
    rsa_public(
        BigUint::from_bytes_be(raw.modulus.as_bytes()),
        BigUint::from_bytes_be(raw.public_exponent.as_bytes()),
    )
}

/// An RSA public key from `n` and `e`, with the exponent checks of `rsa` but no upper size
/// bound yet (so that an oversized key gets our clear message).
pub(crate) fn rsa_public(n: BigUint, e: BigUint) -> Result<PublicKey, ConfigError> {
    RsaPublicKey::new_with_max_size(n, e, usize::MAX)
        .map(PublicKey::Rsa)
        .map_err(|e| key_error(format!("invalid RSA public key: {e}")))
}

/// Refuse RSA moduli outside [`RSA_MIN_BITS`]..=[`RSA_MAX_BITS`].
pub(crate) fn check_rsa_size(n: &BigUint) -> Result<(), ConfigError> {
    let bits = n.bits();
    if bits < RSA_MIN_BITS {
        Err(key_error(format!("RSA keys must be at least {RSA_MIN_BITS} bits, got {bits}")))
    } else if bits > RSA_MAX_BITS {
        Err(key_error(format!("RSA keys larger than {RSA_MAX_BITS} bits are not supported, got {bits}")))
    } else {
        Ok(())
    }
}

/// [`check_rsa_size`] for any key that is RSA.
pub(crate) fn check_public_size(key: &PublicKey) -> Result<(), ConfigError> {
    match key {
        PublicKey::Rsa(k) => check_rsa_size(k.n()),
        _ => Ok(()),
    }
}

/// "`algorithm` needs X, but this is Y" when the families differ.
pub(crate) fn check_family(algorithm: Algorithm, found: KeyFamily) -> Result<(), ConfigError> {
    if algorithm.family() == found {
        Ok(())
    } else {
        Err(key_error(format!(
            "{algorithm} needs {}, but this is {}",
            describe(algorithm.family()),
            describe(found)
        )))
    }
}
