//! Every way verification fails: each case checks the simplejwt message clients see and the
//! [`InvalidReason`] our logs see, and none may panic.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use jwt_core::{
    Access, Algorithm, InvalidReason, KeySet, Refresh, Settings, SigningKey, TokenEngine, TokenError,
    Untyped, VerifyingKey,
};
use serde_json::json;

use crate::helpers::{
    T0, VECTOR_SECRET, access_claims, b64, claims, engine_at, hs256_engine, hs256_raw, hs256_token,
    public_pem, settings, signing_key,
};

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The payload of [`access_claims`] as JSON text.
fn access_payload() -> String {
    serde_json::to_string(&access_claims()).unwrap()
}

/// The reason `token` is invalid for `engine`.
fn reason(engine: &TokenEngine, token: &str) -> InvalidReason {
    match engine.verify::<Untyped>(token) {
        Err(TokenError::Invalid(reason)) => reason,
        Err(other) => panic!("{token}: expected Token is invalid, got {other:?}"),
        Ok(_) => panic!("{token}: expected Token is invalid, but it verified"),
    }
}

fn message(engine: &TokenEngine, token: &str) -> String {
    engine.verify::<Untyped>(token).map(|_| ()).unwrap_err().to_string()
}

#[test]
fn a_well_formed_token_verifies() {
    let engine = hs256_engine();
    assert!(engine.verify::<Access>(&hs256_token(HEADER, access_payload())).is_ok());
}

#[test]
fn expired_at_exactly_exp_and_valid_one_second_before() {
    let token = hs256_token(HEADER, access_payload());
    let keys = || KeySet::hs256(VECTOR_SECRET).unwrap();
    let (engine, clock) = engine_at(settings(Algorithm::HS256), keys(), T0 + 299);
    assert!(engine.verify::<Untyped>(&token).is_ok());
    clock.set(T0 + 300);
    let err = engine.verify::<Untyped>(&token).unwrap_err();
    assert!(matches!(err, TokenError::Expired), "{err:?}");
    assert_eq!(err.to_string(), "Token is expired");
    assert_eq!(err.code(), "token_not_valid");
}

#[test]
fn leeway_extends_exp_nbf_and_iat() {
    let token =
        hs256_token(HEADER, json!({"exp": T0, "nbf": T0 + 20, "iat": T0 + 20, "jti": "a"}).to_string());
    let lenient = Settings { leeway: std::time::Duration::from_secs(30), ..settings(Algorithm::HS256) };
    let (engine, _) = engine_at(lenient, KeySet::hs256(VECTOR_SECRET).unwrap(), T0 + 5);
    assert!(engine.verify::<Untyped>(&token).is_ok());
    assert_eq!(reason(&hs256_engine(), &token), InvalidReason::NotYetValid);
}

#[test]
fn future_iat_and_future_nbf_are_not_yet_valid() {
    let engine = hs256_engine();
    let mut future_iat = access_claims();
    future_iat.set("iat", T0 + 1);
    let token = hs256_token(HEADER, serde_json::to_string(&future_iat).unwrap());
    assert_eq!(reason(&engine, &token), InvalidReason::NotYetValid);
    assert_eq!(message(&engine, &token), "Token is invalid");

    let mut future_nbf = access_claims();
    future_nbf.set("nbf", T0 + 1);
    let token = hs256_token(HEADER, serde_json::to_string(&future_nbf).unwrap());
    assert_eq!(reason(&engine, &token), InvalidReason::NotYetValid);
    future_nbf.set("nbf", T0);
    assert!(
        engine.verify::<Untyped>(&hs256_token(HEADER, serde_json::to_string(&future_nbf).unwrap())).is_ok()
    );
}

#[test]
fn wrong_or_missing_audience_and_issuer() {
    let configured = Settings {
        audience: Some("my-api".into()),
        issuer: Some("https://auth.example.com".into()),
        ..settings(Algorithm::HS256)
    };
    let (engine, _) = engine_at(configured, KeySet::hs256(VECTOR_SECRET).unwrap(), T0);
    let with = |aud: serde_json::Value, iss: serde_json::Value| {
        let mut c = access_claims();
        c.set("aud", aud);
        c.set("iss", iss);
        hs256_token(HEADER, serde_json::to_string(&c).unwrap())
    };
    assert!(engine.verify::<Untyped>(&with(json!("my-api"), json!("https://auth.example.com"))).is_ok());
    assert!(
        engine.verify::<Untyped>(&with(json!(["x", "my-api"]), json!("https://auth.example.com"))).is_ok()
    );
    assert_eq!(
        reason(&engine, &with(json!("other"), json!("https://auth.example.com"))),
        InvalidReason::Audience
    );
    assert_eq!(
        reason(&engine, &with(json!(["x", 1]), json!("https://auth.example.com"))),
        InvalidReason::Audience
    );
    assert_eq!(
        reason(&engine, &with(json!(null), json!("https://auth.example.com"))),
        InvalidReason::Audience
    );
    assert_eq!(reason(&engine, &with(json!("my-api"), json!("https://evil.example"))), InvalidReason::Issuer);
    let neither = hs256_token(HEADER, access_payload());
    assert_eq!(message(&engine, &neither), "Token is invalid");
}

#[test]
fn wrong_token_type() {
    let engine = hs256_engine();
    let token = hs256_token(HEADER, access_payload());
    let err = engine.verify::<Refresh>(&token).unwrap_err();
    assert!(matches!(err, TokenError::WrongType));
    assert_eq!(err.to_string(), "Token has wrong type");
    let mut untyped = access_claims();
    untyped.remove("token_type");
    let token = hs256_token(HEADER, serde_json::to_string(&untyped).unwrap());
    assert_eq!(engine.verify::<Access>(&token).unwrap_err().to_string(), "Token has no type");
    assert!(engine.verify::<Untyped>(&token).is_ok());
}

#[test]
fn bad_signature() {
    let engine = hs256_engine();
    let token = hs256_token(HEADER, access_payload());
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);
    assert_eq!(reason(&engine, &tampered), InvalidReason::Signature);
    assert_eq!(message(&engine, &tampered), "Token is invalid");
    // Another secret, and a payload changed after signing.
    let other = hs256_raw(&[7u8; 32], HEADER, access_payload());
    assert_eq!(reason(&engine, &other), InvalidReason::Signature);
    let (_, payload_and_sig) = token.split_once('.').unwrap();
    let (_, sig) = payload_and_sig.split_once('.').unwrap();
    let mut changed = access_claims();
    changed.set("user_id", "1");
    let swapped = format!("{}.{}.{sig}", b64(HEADER), b64(serde_json::to_string(&changed).unwrap()));
    assert_eq!(reason(&engine, &swapped), InvalidReason::Signature);
}

#[test]
fn alg_none_is_rejected_with_and_without_a_signature() {
    let engine = hs256_engine();
    for alg in ["none", "None", "NONE", "", "hs256", "HS256 "] {
        let header = json!({"alg": alg, "typ": "JWT"}).to_string();
        let unsigned = format!("{}.{}.", b64(&header), b64(access_payload()));
        assert_eq!(reason(&engine, &unsigned), InvalidReason::Algorithm, "{alg:?}");
        // Even with a valid HMAC over the none-header, the header cannot pick the algorithm.
        let signed = hs256_token(&header, access_payload());
        assert_eq!(reason(&engine, &signed), InvalidReason::Algorithm, "{alg:?}");
    }
}

#[test]
fn a_stronger_hmac_algorithm_in_the_header_is_rejected() {
    let engine = hs256_engine();
    let key = SigningKey::hmac(Algorithm::HS512, &[b'k'; 64]).unwrap();
    let hs512 = key.encode(&access_claims()).unwrap();
    assert_eq!(reason(&engine, &hs512), InvalidReason::Algorithm);
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_rejected_by_an_rs256_key_set() {
    // The classic confusion attack: the attacker knows the public key and uses its PEM text
    // as an HMAC secret, hoping the verifier lets the header pick HS256.
    let pem = public_pem(Algorithm::RS256);
    let forged = hs256_raw(pem.as_bytes(), HEADER, access_payload());
    let (engine, _) = engine_at(settings(Algorithm::RS256), KeySet::new(signing_key(Algorithm::RS256)), T0);
    assert_eq!(reason(&engine, &forged), InvalidReason::Algorithm);
    // Also when the key set only holds the public key as a verifying key with a kid.
    let verify_only = KeySet::new(signing_key(Algorithm::RS256).with_kid("current"))
        .with_verifying_key(VerifyingKey::from_pem(Algorithm::RS256, &pem).unwrap().with_kid("old"))
        .unwrap();
    let (engine, _) = engine_at(settings(Algorithm::RS256), verify_only, T0);
    let forged = hs256_raw(pem.as_bytes(), r#"{"alg":"HS256","kid":"old","typ":"JWT"}"#, access_payload());
    assert_eq!(reason(&engine, &forged), InvalidReason::Algorithm);
}

#[test]
fn unknown_kid_and_kid_of_another_algorithm() {
    let rsa = signing_key(Algorithm::RS256).with_kid("rs");
    let hmac = VerifyingKey::hmac(Algorithm::HS256, VECTOR_SECRET).unwrap().with_kid("hs");
    let keys = KeySet::new(rsa).with_verifying_key(hmac).unwrap();
    let (engine, _) = engine_at(settings(Algorithm::RS256), keys, T0);

    let unknown = hs256_token(r#"{"alg":"HS256","kid":"nope","typ":"JWT"}"#, access_payload());
    assert_eq!(reason(&engine, &unknown), InvalidReason::UnknownKey);
    assert_eq!(message(&engine, &unknown), "Token is invalid");
    // kid "hs" selects the HMAC key, which does not allow RS256.
    let rs_on_hs = hs256_token(r#"{"alg":"RS256","kid":"hs","typ":"JWT"}"#, access_payload());
    assert_eq!(reason(&engine, &rs_on_hs), InvalidReason::Algorithm);
    // kid "rs" selects the RSA key, which does not allow HS256.
    let hs_on_rs = hs256_token(r#"{"alg":"HS256","kid":"rs","typ":"JWT"}"#, access_payload());
    assert_eq!(reason(&engine, &hs_on_rs), InvalidReason::Algorithm);
    // The matching pair verifies: the HMAC key accepts HS256 tokens naming it.
    let ok = hs256_token(r#"{"alg":"HS256","kid":"hs","typ":"JWT"}"#, access_payload());
    assert!(engine.verify::<Untyped>(&ok).is_ok());
    // Without a kid the signing key is used: no kid-less verifying key exists.
    let no_kid = hs256_token(HEADER, access_payload());
    assert_eq!(reason(&engine, &no_kid), InvalidReason::Algorithm);
}

#[test]
fn malformed_structure() {
    let engine = hs256_engine();
    let good = hs256_token(HEADER, access_payload());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let cases = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}..{p}.{s}"),
        format!("{h}.{p}..{s}"),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}.{s}."),
        format!(" {good}"),
        format!("{good}\n"),
        format!("{h}.{p} .{s}"),
        good[..good.len() / 2].to_owned(),
        format!("{}.{p}.{s}", &h[..h.len() - 1]),
        "not a token".into(),
    ];
    for token in &cases {
        let why = reason(&engine, token);
        assert!(matches!(why, InvalidReason::Malformed | InvalidReason::Signature), "{token:?}: {why:?}");
        assert_eq!(message(&engine, token), "Token is invalid");
    }
}

#[test]
fn truncated_signatures_are_invalid() {
    let engine = hs256_engine();
    let good = hs256_token(HEADER, access_payload());
    for cut in 1..=43 {
        let token = &good[..good.len() - cut];
        let why = reason(&engine, token);
        assert!(matches!(why, InvalidReason::Malformed | InvalidReason::Signature), "cut {cut}: {why:?}");
    }
}

#[test]
fn non_base64url_and_padding_are_malformed() {
    let engine = hs256_engine();
    let good = hs256_token(HEADER, access_payload());
    let (signed, s) = good.rsplit_once('.').unwrap();
    let (h, p) = signed.split_once('.').unwrap();
    let cases = [
        // standard-alphabet characters, padding, spaces and junk in each segment
        format!("{h}.{p}.{}+", &s[..s.len() - 1]),
        format!("{h}.{p}.{}/", &s[..s.len() - 1]),
        format!("{h}.{p}.{s}="),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}==.{s}"),
        format!("{h}*.{p}.{s}"),
        format!("{h}.{p}!.{s}"),
        format!("{h}.{p}.{s}%"),
        // a non-canonical last character (unused bits set) in the signature
        format!("{h}.{p}.{}B", &s[..s.len() - 1]),
    ];
    for token in &cases {
        assert_eq!(reason(&engine, token), InvalidReason::Malformed, "{token}");
    }
    // Padding on header and payload, re-signed so that only the padding is wrong.
    let padded_header = URL_SAFE.encode(r#"{"alg":"HS256","typ":"JWT"} "#);
    assert!(padded_header.ends_with("=="));
    let key = jsonwebtoken::EncodingKey::from_secret(VECTOR_SECRET);
    let signed = format!("{padded_header}.{p}");
    let sig = jsonwebtoken::crypto::sign(signed.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap();
    assert_eq!(reason(&engine, &format!("{signed}.{sig}")), InvalidReason::Malformed);
}

#[test]
fn header_and_payload_must_be_json_objects() {
    let engine = hs256_engine();
    let payload = access_payload();
    let cases = [
        hs256_token("not json", &payload),
        hs256_token(r#"["HS256"]"#, &payload),
        hs256_token(r#""HS256""#, &payload),
        hs256_token("", &payload),
        hs256_token(r#"{"typ":"JWT"}"#, &payload),
        hs256_token(r#"{"alg":["HS256"],"typ":"JWT"}"#, &payload),
        hs256_token(r#"{"alg":"HS256","kid":1,"typ":"JWT"}"#, &payload),
        hs256_token(r#"{"alg":"HS256","kid":null,"typ":"JWT"}"#, &payload),
        hs256_token(r#"{"alg":"HS256","alg":"HS256"}"#, &payload),
        hs256_token(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#, &payload),
        hs256_token(r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#, &payload),
        hs256_token(r#"{"alg":"HS256","b64":false}"#, &payload),
        hs256_token("{\"alg\":\"HS256\"", &payload),
        hs256_token(HEADER, "not json"),
        hs256_token(HEADER, r#"[{"exp":1}]"#),
        hs256_token(HEADER, "42"),
        hs256_token(HEADER, "null"),
        hs256_token(HEADER, ""),
        hs256_token(HEADER, format!("{payload}x")),
        hs256_token(HEADER, [0xff, 0xfe, b'{']),
    ];
    for token in &cases {
        assert_eq!(reason(&engine, token), InvalidReason::Malformed, "{token}");
        assert_eq!(message(&engine, token), "Token is invalid");
    }
    // Unknown header members are ignored, as PyJWT does.
    let extra =
        hs256_token(r#"{"alg":"HS256","cty":"JWT","x5u":"https://e.example","typ":"at+jwt"}"#, &payload);
    assert!(engine.verify::<Untyped>(&extra).is_ok());
}

#[test]
fn oversized_tokens_are_rejected_before_parsing() {
    let engine = hs256_engine();
    let limit = engine.settings().max_token_bytes;
    let mut big = access_claims();
    big.set("pad", "x".repeat(limit));
    let token = hs256_token(HEADER, serde_json::to_string(&big).unwrap());
    assert_eq!(reason(&engine, &token), InvalidReason::TooLarge);
    // Garbage of that size is not even split.
    assert_eq!(reason(&engine, &"a".repeat(limit + 1)), InvalidReason::TooLarge);
    // A token of exactly the limit is parsed.
    let base = hs256_token(HEADER, access_payload()).len();
    let mut exact = access_claims();
    let fill = (limit - base) * 3 / 4 - 16;
    exact.set("pad", "x".repeat(fill));
    let token = hs256_token(HEADER, serde_json::to_string(&exact).unwrap());
    assert!(token.len() <= limit);
    assert!(engine.verify::<Untyped>(&token).is_ok());
}

#[test]
fn registered_claims_of_the_wrong_type() {
    let engine = hs256_engine();
    for (name, value) in [
        ("exp", json!("1767225900")),
        ("exp", json!(null)),
        ("exp", json!([1767225900])),
        ("iat", json!("1767225600")),
        ("nbf", json!(true)),
        ("jti", json!(12345)),
        ("jti", json!(null)),
        ("sub", json!(42)),
        ("sub", json!({"id": 42})),
    ] {
        let mut c = access_claims();
        c.set(name, value.clone());
        let token = hs256_token(HEADER, serde_json::to_string(&c).unwrap());
        assert_eq!(reason(&engine, &token), InvalidReason::ClaimType, "{name}: {value}");
    }
    // Floats are NumericDates (truncated), as in PyJWT.
    let mut float_exp = access_claims();
    float_exp.set("exp", json!((T0 + 300) as f64 + 0.5));
    assert!(
        engine.verify::<Untyped>(&hs256_token(HEADER, serde_json::to_string(&float_exp).unwrap())).is_ok()
    );
}

#[test]
fn missing_exp_and_jti_give_simplejwt_messages() {
    let engine = hs256_engine();
    let no_exp = claims(json!({"token_type": "access", "iat": T0, "jti": "a", "user_id": "1"}));
    let token = hs256_token(HEADER, serde_json::to_string(&no_exp).unwrap());
    assert_eq!(message(&engine, &token), "Token has no 'exp' claim");
    let no_jti = claims(json!({"token_type": "access", "exp": T0 + 5, "user_id": "1"}));
    let token = hs256_token(HEADER, serde_json::to_string(&no_jti).unwrap());
    assert_eq!(message(&engine, &token), "Token has no id");
}

#[test]
fn dangerous_decode_unverified_skips_every_check_but_structure() {
    let forged = format!("{}.{}.", b64(r#"{"alg":"none","kid":"x"}"#), b64(r#"{"exp":"soon","b":1}"#));
    let (header, claims) = jwt_core::dangerous::decode_unverified(&forged).unwrap();
    assert_eq!(header.get("alg"), Some(&json!("none")));
    assert_eq!(claims.get("exp"), Some(&json!("soon")));
    for bad in [
        "",
        "a.b",
        "a.b.c.d",
        &format!("{}.{}.", b64("[]"), b64("{}")),
        &format!("{}.{}.", b64("{}"), b64("[]")),
    ] {
        assert_eq!(
            jwt_core::dangerous::decode_unverified(bad).unwrap_err(),
            InvalidReason::Malformed,
            "{bad}"
        );
    }
}
