//! Encode and decode+verify through [`TokenEngine`], next to a direct `jsonwebtoken::encode` /
//! `jsonwebtoken::decode` call on the same key and claims, in the same run.
//!
//! ```sh
//! cargo bench -p jwt-core --bench tokens -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! - encode: `TokenEngine::refresh_for` (claims built, jti drawn, JSON written the PyJWT
//!   way, signed) vs `jsonwebtoken::encode` of the same claims with `Header::new(alg)`.
//! - decode: `TokenEngine::verify::<Refresh>` (structure, key selection, signature, claims
//!   parsed into an ordered map, registered and simplejwt claim checks) vs
//!   `jsonwebtoken::decode::<Claims>` with `validate_exp = false` and `exp` required (the
//!   configuration jwt-core's style guide prescribes; both parse the claims into the same
//!   ordered map).
//!
//! jsonwebtoken has no ES512, so ES512 is measured alone. After the run, a table of ns/op
//! and our/jsonwebtoken ratios is printed from criterion's estimates.

use std::collections::BTreeMap;
use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::Criterion;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use jwt_core::memory::{FixedClock, SeqRandom};
use jwt_core::{
    Algorithm, Claims, KeySet, Refresh, Settings, SigningKey, TokenClaims as _, TokenEngine, UserId,
};
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use serde_json::Value;

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// 2026-01-01T00:00:00Z: the clock of every engine here.
const T0: i64 = 1_767_225_600;

const ALGORITHMS: [Algorithm; 7] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::ES512,
    Algorithm::EdDSA,
];

/// The claims a jsonwebtoken user would mint for the same refresh token: a typed struct,
/// the cheapest form jsonwebtoken takes (serialised in this field order, as the engine's).
#[derive(serde::Serialize)]
struct RefreshClaims<'a> {
    token_type: &'static str,
    exp: i64,
    iat: i64,
    jti: String,
    user_id: &'a str,
}

/// [`RefreshClaims`] minted the way the engine mints: 16 counter bytes as a UUID4-shaped hex jti.
fn mint_struct<'a>(counter: &std::sync::atomic::AtomicU64, user_id: &'a str) -> RefreshClaims<'a> {
    use std::fmt::Write as _;
    let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut jti = String::with_capacity(32);
    for b in bytes {
        let _ = write!(jti, "{b:02x}");
    }
    RefreshClaims { token_type: "refresh", exp: T0 + 86_400, iat: T0, jti, user_id }
}

/// The raw jsonwebtoken side of one algorithm.
struct Baseline {
    header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    token: String,
}

struct Case {
    algorithm: Algorithm,
    key: SigningKey,
    engine: TokenEngine,
    user: UserId,
    extra: serde_json::Map<String, Value>,
    token: String,
    claims: Claims,
    baseline: Option<Baseline>,
}

/// The signing key PEM (or HMAC secret) of the first simplejwt vector of `algorithm`.
fn vector_key(algorithm: Algorithm) -> BoxResult<String> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "vectors.json"].iter().collect();
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let vectors = file["vectors"].as_array().ok_or("no vectors")?;
    let vector = vectors.iter().find(|v| v["algorithm"] == algorithm.as_str()).ok_or("no vector")?;
    Ok(vector["signing_key"].as_str().ok_or("no key")?.to_owned())
}

fn jwk_member(key: &SigningKey, name: &str) -> BoxResult<String> {
    let jwk = key.verifying_key().to_jwk().ok_or("no JWK")?;
    Ok(jwk[name].as_str().ok_or("no JWK member")?.to_owned())
}

/// jsonwebtoken keys in the forms its rust_crypto provider expects, from the same material.
fn baseline_keys(
    algorithm: Algorithm,
    pem: &str,
    key: &SigningKey,
) -> BoxResult<Option<(EncodingKey, DecodingKey)>> {
    Ok(Some(match algorithm {
        Algorithm::HS256 => {
            (EncodingKey::from_secret(pem.as_bytes()), DecodingKey::from_secret(pem.as_bytes()))
        }
        Algorithm::RS256 | Algorithm::PS256 => {
            let der = rsa::RsaPrivateKey::from_pkcs8_pem(pem)?.to_pkcs1_der()?;
            let decoding = DecodingKey::from_rsa_components(&jwk_member(key, "n")?, &jwk_member(key, "e")?)?;
            (EncodingKey::from_rsa_der(der.as_bytes()), decoding)
        }
        Algorithm::ES256 | Algorithm::ES384 => {
            let der = if algorithm == Algorithm::ES256 {
                p256::SecretKey::from_pkcs8_pem(pem)?.to_pkcs8_der()?
            } else {
                p384::SecretKey::from_pkcs8_pem(pem)?.to_pkcs8_der()?
            };
            let decoding = DecodingKey::from_ec_components(&jwk_member(key, "x")?, &jwk_member(key, "y")?)?;
            (EncodingKey::from_ec_der(der.as_bytes()), decoding)
        }
        Algorithm::EdDSA => {
            let der = ed25519_dalek::SigningKey::from_pkcs8_pem(pem)?.to_pkcs8_der()?;
            (
                EncodingKey::from_ed_der(der.as_bytes()),
                DecodingKey::from_ed_components(&jwk_member(key, "x")?)?,
            )
        }
        _ => return Ok(None),
    }))
}

fn jwt_algorithm(algorithm: Algorithm) -> BoxResult<jsonwebtoken::Algorithm> {
    Ok(algorithm.as_str().parse()?)
}

fn case(algorithm: Algorithm) -> BoxResult<Case> {
    let pem = vector_key(algorithm)?;
    let key = if algorithm.is_symmetric() {
        SigningKey::hmac(algorithm, pem.as_bytes())?
    } else {
        SigningKey::from_pem(algorithm, &pem)?
    };
    let settings = Settings { algorithm, ..Settings::default() };
    let engine = TokenEngine::with_details(
        settings,
        KeySet::new(key.clone()),
        FixedClock::at(T0),
        SeqRandom::starting_at(1),
    )?;
    let user = UserId::parse("42")?;
    let extra = serde_json::Map::new();
    let issued = engine.refresh_for(&user, &extra)?;
    let claims = issued.claims().clone();
    let token = issued.into_string();
    assert!(engine.verify::<Refresh>(&token).is_ok(), "{algorithm}: our token does not verify");

    let baseline = match baseline_keys(algorithm, &pem, &key)? {
        None => None,
        Some((encoding, decoding)) => {
            let alg = jwt_algorithm(algorithm)?;
            let header = Header::new(alg);
            let mut validation = Validation::new(alg);
            validation.validate_exp = false;
            validation.set_required_spec_claims(&["exp"]);
            let token = jsonwebtoken::encode(&header, &claims, &encoding)?;
            let decoded = jsonwebtoken::decode::<Claims>(&token, &decoding, &validation)?;
            assert_eq!(decoded.claims, claims, "{algorithm}: baseline round trip");
            assert_eq!(token.len(), issued_len(&engine, &user)?, "{algorithm}: tokens of different sizes");
            Some(Baseline { header, encoding, decoding, validation, token })
        }
    };
    Ok(Case { algorithm, key, engine, user, extra, token, claims, baseline })
}

/// Length of a token the engine mints (the same for every jti).
fn issued_len(engine: &TokenEngine, user: &UserId) -> BoxResult<usize> {
    Ok(engine.refresh_for(user, &serde_json::Map::new())?.as_str().len())
}

/// Our time over jsonwebtoken's for the same operation, robust to the load drifting on a
/// shared machine: both run in alternating blocks of about a millisecond, and the result is
/// the median of the per-round ratios.
fn interleaved_ratio(mut ours: impl FnMut(), mut theirs: impl FnMut(), rounds: usize) -> f64 {
    let time = |f: &mut dyn FnMut(), n: u32| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    // Calibrate a block to about 1 ms of the slower side.
    let once = time(&mut ours, 3).max(time(&mut theirs, 3)) / 3.0;
    let n = ((1e-3 / once.max(1e-9)) as u32).clamp(1, 100_000);
    let mut ratios: Vec<f64> = (0..rounds).map(|_| time(&mut ours, n) / time(&mut theirs, n)).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[rounds / 2]
}

/// Interleaved ratios of every row with a baseline, by algorithm and row label.
fn ratios(cases: &[Case], filter: &dyn Fn(&str) -> bool) -> BTreeMap<(String, &'static str), f64> {
    let mut out = BTreeMap::new();
    for case in cases {
        let Some(base) = &case.baseline else { continue };
        let alg = case.algorithm.as_str();
        let rounds = if case.algorithm.family() == jwt_core::KeyFamily::Rsa { 15 } else { 101 };
        let jwt_encode = || {
            black_box(jsonwebtoken::encode(&base.header, black_box(&case.claims), &base.encoding).is_ok());
        };
        if filter(&format!("{alg}/encode-jwt-core")) {
            let mint = || {
                black_box(case.engine.refresh_for(black_box(&case.user), &case.extra).is_ok());
            };
            out.insert((alg.to_owned(), "encode-jwt-core"), interleaved_ratio(mint, jwt_encode, rounds));
        }
        if filter(&format!("{alg}/mint-jsonwebtoken")) {
            let counter = std::sync::atomic::AtomicU64::new(1);
            let mint = || {
                black_box(case.engine.refresh_for(black_box(&case.user), &case.extra).is_ok());
            };
            let jwt_mint = || {
                let claims = mint_struct(&counter, case.user.as_str());
                black_box(jsonwebtoken::encode(&base.header, black_box(&claims), &base.encoding).is_ok());
            };
            out.insert((alg.to_owned(), "mint-jsonwebtoken"), interleaved_ratio(mint, jwt_mint, rounds));
        }
        if filter(&format!("{alg}/sign-jwt-core")) {
            let sign = || {
                black_box(case.key.encode(black_box(&case.claims)).is_ok());
            };
            out.insert((alg.to_owned(), "sign-jwt-core"), interleaved_ratio(sign, jwt_encode, rounds));
        }
        if filter(&format!("{alg}/decode-jwt-core")) {
            let ours = || {
                black_box(case.engine.verify::<Refresh>(black_box(&case.token)).is_ok());
            };
            let theirs = || {
                black_box(
                    jsonwebtoken::decode::<Claims>(black_box(&base.token), &base.decoding, &base.validation)
                        .is_ok(),
                );
            };
            out.insert((alg.to_owned(), "decode-jwt-core"), interleaved_ratio(ours, theirs, rounds));
        }
    }
    out
}

fn bench(c: &mut Criterion, case: &Case) {
    let mut group = c.benchmark_group(case.algorithm.as_str());
    group.bench_function("encode-jwt-core", |b| {
        b.iter(|| black_box(case.engine.refresh_for(black_box(&case.user), &case.extra).is_ok()));
    });
    group.bench_function("sign-jwt-core", |b| {
        b.iter(|| black_box(case.key.encode(black_box(&case.claims)).is_ok()));
    });
    group.bench_function("decode-jwt-core", |b| {
        b.iter(|| black_box(case.engine.verify::<Refresh>(black_box(&case.token)).is_ok()));
    });
    if let Some(base) = &case.baseline {
        let counter = std::sync::atomic::AtomicU64::new(1);
        group.bench_function("mint-jsonwebtoken", |b| {
            b.iter(|| {
                let claims = mint_struct(&counter, case.user.as_str());
                black_box(jsonwebtoken::encode(&base.header, black_box(&claims), &base.encoding).is_ok())
            });
        });
        group.bench_function("encode-jsonwebtoken", |b| {
            b.iter(|| {
                black_box(jsonwebtoken::encode(&base.header, black_box(&case.claims), &base.encoding).is_ok())
            });
        });
        group.bench_function("decode-jsonwebtoken", |b| {
            b.iter(|| {
                black_box(
                    jsonwebtoken::decode::<Claims>(black_box(&base.token), &base.decoding, &base.validation)
                        .is_ok(),
                )
            });
        });
    }
    group.finish();
}

/// Where criterion writes its estimates: `$CRITERION_HOME`, else `<target>/criterion`, with
/// `<target>` found from this executable (`<target>/release/deps/tokens-*`).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors().nth(3).map_or_else(|| PathBuf::from("target"), Path::to_path_buf).join("criterion")
}

fn estimate_file(dir: &Path, algorithm: Algorithm, id: &str) -> PathBuf {
    dir.join(algorithm.as_str()).join(id).join("new").join("estimates.json")
}

/// The time per iteration of a benchmark, if it was measured in this run (its file changed).
fn ns_per_op(path: &Path, before: &BTreeMap<PathBuf, Option<std::time::SystemTime>>) -> Option<f64> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if modified.is_none() || before.get(path).copied().flatten() == modified {
        return None;
    }
    let estimates: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    // The figure criterion prints: the regression slope, or the mean for flat sampling.
    estimates["slope"]["point_estimate"].as_f64().or_else(|| estimates["mean"]["point_estimate"].as_f64())
}

fn report(dir: &Path, before: &BTreeMap<PathBuf, Option<std::time::SystemTime>>, cases: &[Case]) {
    let measured = |id: &str| {
        id.split_once('/').and_then(|(alg, bench)| {
            let algorithm: Algorithm = alg.parse().ok()?;
            ns_per_op(&estimate_file(dir, algorithm, bench), before)
        })
    };
    let interleaved = ratios(cases, &|id| measured(id).is_some());
    println!("\njwt-core vs jsonwebtoken 11.1 (rust_crypto): criterion ns/op, their ratio, and the");
    println!("ratio measured interleaved (median of alternating ~1 ms blocks; robust to load drift)");
    println!("| algorithm | operation | jwt-core ns | jsonwebtoken ns | ratio | interleaved ratio |");
    println!("|---|---|---:|---:|---:|---:|");
    // (label, our bench, their bench, key of the interleaved ratio)
    let rows = [
        (
            "mint + encode vs encode of prebuilt claims",
            "encode-jwt-core",
            "encode-jsonwebtoken",
            "encode-jwt-core",
        ),
        (
            "mint + encode vs mint (typed struct) + encode",
            "encode-jwt-core",
            "mint-jsonwebtoken",
            "mint-jsonwebtoken",
        ),
        (
            "encode prebuilt claims (SigningKey::encode)",
            "sign-jwt-core",
            "encode-jsonwebtoken",
            "sign-jwt-core",
        ),
        (
            "decode + verify (TokenEngine::verify vs decode)",
            "decode-jwt-core",
            "decode-jsonwebtoken",
            "decode-jwt-core",
        ),
    ];
    let cell = |v: Option<f64>, digits: usize| v.map_or_else(|| "—".to_owned(), |x| format!("{x:.digits$}"));
    for algorithm in ALGORITHMS {
        for (label, ours_id, theirs_id, ratio_id) in rows {
            let ours = ns_per_op(&estimate_file(dir, algorithm, ours_id), before);
            let theirs = ns_per_op(&estimate_file(dir, algorithm, theirs_id), before);
            if ours.is_none() || theirs.is_none() && ratio_id == "mint-jsonwebtoken" {
                continue;
            }
            let ratio = ours.zip(theirs).map(|(a, b)| a / b);
            let steady = interleaved.get(&(algorithm.as_str().to_owned(), ratio_id)).copied();
            println!(
                "| {algorithm} | {label} | {} | {} | {} | {} |",
                cell(ours, 0),
                cell(theirs, 0),
                cell(ratio, 2),
                cell(steady, 2)
            );
        }
    }
}

fn main() {
    let dir = criterion_dir();
    let before: BTreeMap<PathBuf, Option<std::time::SystemTime>> = ALGORITHMS
        .iter()
        .flat_map(|&a| {
            [
                "encode-jwt-core",
                "sign-jwt-core",
                "decode-jwt-core",
                "mint-jsonwebtoken",
                "encode-jsonwebtoken",
                "decode-jsonwebtoken",
            ]
            .map(|id| estimate_file(&dir, a, id))
        })
        .map(|p| {
            let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
            (p, modified)
        })
        .collect();
    let mut criterion = Criterion::default().output_directory(&dir).configure_from_args();
    let mut cases = Vec::new();
    for algorithm in ALGORITHMS {
        match case(algorithm) {
            Ok(case) => cases.push(case),
            Err(e) => {
                eprintln!("{algorithm}: benchmark setup failed: {e}");
                std::process::exit(1);
            }
        }
    }
    for case in &cases {
        bench(&mut criterion, case);
    }
    criterion.final_summary();
    report(&dir, &before, &cases);
}
