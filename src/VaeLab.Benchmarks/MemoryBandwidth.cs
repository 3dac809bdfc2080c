using System.Diagnostics;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>
/// The memory bandwidth libtorch reaches: GB/s of copying a float32 tensor far larger than the caches (bytes read plus bytes
/// written). Training's element-wise kernels and the optimiser stream their arrays like this, the matrix-product peak does
/// not, so a spell when other guests of the host load the shared memory system shows here and in training, not in the peak.
/// </summary>
public static class MemoryBandwidth
{
    /// <summary>Best GB/s over <paramref name="rounds"/> rounds of about <paramref name="secondsPerRound"/> each, copying <paramref name="megabytes"/> MB.</summary>
    public static double Measure(int megabytes = 128, int rounds = 2, double secondsPerRound = 0.2)
    {
        long n = (long)megabytes * 1_000_000 / sizeof(float);
        using Tensor source = ones(n);
        using Tensor target = empty(n);
        target.copy_(source);   // first touch, threads
        double best = 0;
        for (int round = 0; round < rounds; round++)
        {
            int copies = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < secondsPerRound)
            {
                target.copy_(source);
                copies++;
            }
            best = Math.Max(best, copies * 2.0 * n * sizeof(float) / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }
}
