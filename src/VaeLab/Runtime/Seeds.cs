namespace VaeLab.Runtime;

/// <summary>
/// The one home of derived seeds: a stream of random numbers that depends on a run's seed and an index (a training step, an
/// evaluation batch) without sharing numbers with its neighbours. Training's shards and the evaluator's batches seed their
/// generators from it, so a figure does not depend on how many threads computed it.
/// </summary>
public static class Seeds
{
    /// <summary>A SplitMix64 mix of (<paramref name="seed"/>, <paramref name="index"/>, <paramref name="stream"/>): neighbouring inputs give unrelated outputs.</summary>
    public static ulong Mix(long seed, long index, int stream)
    {
        ulong x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xC2B2AE3D27D4EB4FUL ^ (ulong)(stream + 1) * 0x165667B19E3779F9UL);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return x ^ (x >> 31);
    }
}
