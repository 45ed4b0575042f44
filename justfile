# Thin wrappers over the cargo commands CI runs (.ci/run). `just` is optional: every recipe
# is one or two plain commands.

# List the recipes
default:
    @just --list

# Run the server (zero config: SQLite in ./jwt-server.db, Swagger UI at http://127.0.0.1:8000/docs)
run *ARGS:
    cargo run --release -p jwt-server -- {{ARGS}}

# The whole test suite, as in the README (PostgreSQL/MariaDB too when JWT_TEST_POSTGRES_URL / JWT_TEST_MYSQL_URL are set)
test:
    cargo test --workspace

# Only the end-to-end tests against the real binary
e2e:
    cargo test -p jwt-server --test e2e

# Format check, clippy (workspace and jwt-core alone), docs
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    cargo clippy -p jwt-core --all-targets --locked -- -D warnings
    RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --locked

# Regenerate docs/openapi.json from the code (CI fails when it is stale)
openapi:
    cargo run -q -p jwt-server -- openapi > docs/openapi.json

# Benchmarks (jwt-core token operations, jwt-store database operations, server load)
bench:
    cargo bench -p jwt-core --bench tokens
    cargo bench -p jwt-store --bench store
    cargo bench -p jwt-server --bench load

# Everything CI runs
ci:
    bash .ci/run
