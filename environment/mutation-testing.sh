#!/usr/bin/env bash
# Mutation testing of the derivation checks (Stryker.NET, pinned in .config/dotnet-tools.json): mutates the library's
# maths (Objectives/GaussianKl, Elbo, ElboEstimate, ImportanceWeightedBound; Models/DiagonalGaussian, the likelihoods,
# VariationalAutoencoder; Evaluation/Evaluator) and runs the derivation tests (tests/VaeLab.Tests/Derivation) against
# each mutant. Settings: tests/VaeLab.Tests/stryker-config.json. Reports land in tests/VaeLab.Tests/StrykerOutput/<time>/.
# About 40–60 minutes on 2 cores. Stryker cannot mutate TorchSharp method chains: environment/plant_wrong_formulas.py
# plants those mistakes by hand and runs `vaelab check` on each.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore
dotnet build -c Release
cd tests/VaeLab.Tests
dotnet dotnet-stryker --config-file stryker-config.json "$@"
