//! The key set the running server verifies with: its own keys (configured, or stored in the
//! database and reloaded by [`crate::keys::spawn_refresher`]) plus the keys trusted from
//! `jwk_url` (reloaded by [`crate::remote_jwks::Remote::spawn`]).
//!
//! The two sources change independently; [`LiveKeys`] keeps the latest of each and installs
//! their union in the token service whenever either changes. Own keys always win: a remote
//! key whose `kid` is already taken is dropped. Remote keys only verify: the signing key is
//! always an own key, and remote keys are [unpublished](jwt_core::VerifyingKey::unpublished),
//! so `/.well-known/jwks.json` never advertises them.

use std::sync::{Arc, Mutex, PoisonError};

use jwt_core::{ConfigError, KeySet, TokenService, VerifyingKey};

/// Holds the latest own and remote keys and installs their union in a [`TokenService`].
pub struct LiveKeys {
    service: Arc<TokenService>,
    sources: Mutex<Sources>,
}

#[derive(Clone)]
struct Sources {
    local: KeySet,
    remote: Vec<VerifyingKey>,
}

impl std::fmt::Debug for LiveKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sources = self.lock();
        f.debug_struct("LiveKeys")
            .field("local", &sources.local)
            .field("remote", &sources.remote)
            .finish_non_exhaustive()
    }
}

impl LiveKeys {
    /// Track `service`, whose current key set is taken as the own keys (no remote keys yet).
    pub fn new(service: Arc<TokenService>) -> Self {
        let local = service.engine().keys().clone();
        Self { service, sources: Mutex::new(Sources { local, remote: Vec::new() }) }
    }

    /// The own keys last installed.
    pub fn local(&self) -> KeySet {
        self.lock().local.clone()
    }

    /// Replace the own keys (after a key rotation) and install the union.
    ///
    /// # Errors
    /// [`ConfigError::Key`] if the service refuses the keys (a signing key of another
    /// algorithm); the previous keys then stay in force.
    pub fn set_local(&self, local: KeySet) -> Result<(), ConfigError> {
        let mut sources = self.lock();
        let next = Sources { local, remote: sources.remote.clone() };
        self.install(&next)?;
        *sources = next;
        Ok(())
    }

    /// Replace the remote keys (after a JWKS fetch) and install the union.
    ///
    /// # Errors
    /// As for [`LiveKeys::set_local`].
    pub fn set_remote(&self, remote: Vec<VerifyingKey>) -> Result<(), ConfigError> {
        let mut sources = self.lock();
        let next = Sources { local: sources.local.clone(), remote };
        self.install(&next)?;
        *sources = next;
        Ok(())
    }

    fn install(&self, sources: &Sources) -> Result<(), ConfigError> {
        let (keys, dropped) = union(&sources.local, &sources.remote);
        for kid in dropped {
            tracing::warn!(
                kid = ?kid,
                "ignoring a key of jwk_url: this server has its own key with the same kid"
            );
        }
        self.service.set_keys(keys)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sources> {
        self.sources.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `local` plus every key of `remote` (made [unpublished](VerifyingKey::unpublished)) whose
/// `kid` no key of `local` has. Returns the union and the kids of the dropped remote keys.
pub fn union(local: &KeySet, remote: &[VerifyingKey]) -> (KeySet, Vec<String>) {
    let mut keys = local.clone();
    let mut dropped = Vec::new();
    for key in remote {
        let taken = local.verifying_keys().iter().any(|own| own.kid() == key.kid());
        let next = if taken { None } else { keys.clone().with_verifying_key(key.clone().unpublished()).ok() };
        match next {
            Some(next) => keys = next,
            None => dropped.push(key.kid().unwrap_or_default().to_owned()),
        }
    }
    (keys, dropped)
}

#[cfg(test)]
mod tests {
    use jwt_core::memory::SeqRandom;
    use jwt_core::{Algorithm, SigningKey};

    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::generate(Algorithm::EdDSA, &*SeqRandom::starting_at(u64::from(seed) << 32)).unwrap()
    }

    fn kids(keys: &KeySet) -> Vec<Option<&str>> {
        keys.verifying_keys().iter().map(VerifyingKey::kid).collect()
    }

    fn published(keys: &KeySet) -> Vec<String> {
        keys.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap_or("-").to_owned())
            .collect()
    }

    #[test]
    fn the_union_adds_remote_keys_as_unpublished_verifying_keys() {
        let local = KeySet::new(key(1).with_kid("own"));
        let remote = vec![key(2).verifying_key().with_kid("a"), key(3).verifying_key().with_kid("b")];
        let (keys, dropped) = union(&local, &remote);
        assert!(dropped.is_empty());
        assert_eq!(kids(&keys), [Some("own"), Some("a"), Some("b")]);
        assert_eq!(keys.signing_key().kid(), Some("own"));
        assert_eq!(published(&keys), ["own"]);
    }

    #[test]
    fn a_remote_kid_that_collides_with_an_own_kid_is_dropped() {
        let local = KeySet::new(key(1).with_kid("own"))
            .with_verifying_key(key(4).verifying_key().with_kid("old"))
            .unwrap();
        let remote = vec![
            key(2).verifying_key().with_kid("own"),
            key(3).verifying_key().with_kid("old"),
            key(5).verifying_key().with_kid("fresh"),
        ];
        let (keys, dropped) = union(&local, &remote);
        assert_eq!(dropped, ["own", "old"]);
        assert_eq!(kids(&keys), [Some("own"), Some("old"), Some("fresh")]);
        // The own keys kept their material.
        let own = keys.verifying_keys().iter().find(|k| k.kid() == Some("own")).unwrap();
        assert_eq!(own.thumbprint(), key(1).verifying_key().thumbprint());
    }

    #[test]
    fn a_configured_key_without_kid_keeps_verifying_kidless_tokens() {
        let local = KeySet::new(key(1));
        let (keys, dropped) = union(&local, &[key(2).verifying_key().with_kid("a")]);
        assert!(dropped.is_empty());
        assert_eq!(kids(&keys), [None, Some("a")]);
    }
}
