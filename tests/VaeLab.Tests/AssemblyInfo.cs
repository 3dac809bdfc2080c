// Torch's global generator (model initialisation, manual_seed) and its thread count are process-wide:
// tests that seed and build models must not interleave, or "same seed, same numbers" would race.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
