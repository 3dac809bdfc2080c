#!/usr/bin/env bash
# Mutation testing of the derivation checks (Stryker.NET, pinned in .config/dotnet-tools.json): mutates the library's
# maths (Objectives/GaussianKl, Elbo, ElboEstimate, ImportanceWeightedBound; Models/DiagonalGaussian, the likelihoods,
# VariationalAutoencoder; Evaluation/Evaluator) and runs the derivation tests (tests/VaeLab.Tests/Derivation) against
# each mutant. Settings: tests/VaeLab.Tests/stryker-config.json. Reports land in tests/VaeLab.Tests/StrykerOutput/<time>/.
# About 40–60 minutes on 2 cores. `--config-file stryker-evaluation.json` mutates Evaluation/ and Evaluation/Inference/
# instead, against each check on the library (EachCheckPassesOnTheLibrary). Stryker cannot mutate TorchSharp method chains:
# environment/plant_wrong_formulas.py plants those mistakes by hand and runs `vaelab check` on each.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore
dotnet build -c Release
cd tests/VaeLab.Tests
config=stryker-config.json
if [ "${1:-}" = "--config-file" ]; then config=$2; shift 2; fi
dotnet dotnet-stryker --config-file "$config" "$@"
