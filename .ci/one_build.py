#!/usr/bin/env python3
"""The one-build guard: the README's two commands share one build.

    python3 .ci/one_build.py BUILD.json TEST.json

BUILD.json is `cargo build --release --message-format=json`, TEST.json is
`cargo test --release --no-run --message-format=json`, run one after the
other. Every crate the binary was built with must be reused by the tests as
it is: the same artifact file (cargo's file names carry a hash of the crate's
features and dependencies). A test-only dependency that turns on a feature of
a shared crate makes cargo compile that crate, and everything built on it,
a second time (all of polars: about 35 minutes on 2 cores). Exits 1 naming
each such crate and the features that differ; crates only the tests use
(dev-dependencies) and this crate's own test targets are fine.
"""
import json
import sys


def artifacts(path):
    """(package, target name, target kind) -> list of (filenames, features),
    one per compiled unit (a crate built for build scripts and for the
    binary is two units)."""
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            message = json.loads(line)
            if message.get("reason") != "compiler-artifact":
                continue
            target = message["target"]
            key = (message["package_id"], target["name"], ",".join(target["kind"]))
            found.setdefault(key, []).append(
                (tuple(sorted(message["filenames"])), tuple(message["features"]))
            )
    return found


def crate_name(package_id):
    # "registry+https://…#syn@2.0.119" or "path+file:///work/main#0.1.0"
    tail = package_id.rsplit("#", 1)[-1]
    if "@" in tail:
        return tail
    return package_id.rsplit("/", 1)[-1].replace("#", "@")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build, test = artifacts(sys.argv[1]), artifacts(sys.argv[2])
    if not build:
        sys.exit(f"{sys.argv[1]}: no compiler artifacts (was it `cargo build --message-format=json`?)")
    ours = {key[0] for key in test if key[0].startswith("path+")}
    rebuilt = []  # crates whose own features differ
    downstream = []  # crates with the same features built on one of those
    for key, variants in sorted(test.items()):
        package = key[0]
        if package in ours or key not in build:
            continue  # this crate's targets, or a crate only the tests use
        built_files = {files for files, _ in build[key]}
        test_files = {files for files, _ in variants}
        # A build unit the tests do not use, and a new unit of the same
        # crate in its place: the crate was compiled again with another
        # configuration. (A new unit beside a reused one is a second copy,
        # for example a crate the release build compiles only for build
        # scripts and a dev-dependency needs for the tests: not a rebuild.)
        if not (built_files - test_files) or not (test_files - built_files):
            continue
        built_features = sorted({f for _, fs in build[key] for f in fs})
        test_features = sorted({f for _, fs in variants for f in fs})
        extra = sorted(set(test_features) - set(built_features))
        missing = sorted(set(built_features) - set(test_features))
        detail = []
        if extra:
            detail.append("features only in the test build: " + ", ".join(extra))
        if missing:
            detail.append("features only in the release build: " + ", ".join(missing))
        if detail:
            rebuilt.append(f"  {crate_name(package)} ({key[2]} `{key[1]}`): " + "; ".join(detail))
        else:
            downstream.append(crate_name(package))
    if rebuilt or downstream:
        print(
            "one-build guard: `cargo test --release` compiles these crates again, with other\n"
            "features than `cargo build --release` (a dev-dependency turns them on; give the\n"
            "normal or build dependencies the same features, see Cargo.toml):",
            file=sys.stderr,
        )
        print("\n".join(rebuilt), file=sys.stderr)
        if downstream:
            print(
                f"  and {len(downstream)} crate(s) with the same features built on them: "
                + ", ".join(sorted(set(downstream))[:12])
                + (", …" if len(set(downstream)) > 12 else ""),
                file=sys.stderr,
            )
        sys.exit(1)
    shared = sum(1 for key in test if key in build and key[0] not in ours)
    print(f"one-build guard: the tests reuse all {shared} crates of the release build")


if __name__ == "__main__":
    main()
