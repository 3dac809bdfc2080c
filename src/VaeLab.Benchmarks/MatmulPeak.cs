using System.Diagnostics;
using static TorchSharp.torch;

namespace VaeLab.Benchmarks;

/// <summary>The machine's practical float32 peak as this libtorch reaches it: GFLOP/s of a large square matrix product.</summary>
public static class MatmulPeak
{
    /// <summary>Best GFLOP/s over <paramref name="rounds"/> rounds of about <paramref name="secondsPerRound"/> each, for n×n products.</summary>
    public static double Measure(int n = 2048, int rounds = 3, double secondsPerRound = 0.7)
    {
        using var generator = new Generator(0);
        using Tensor a = randn(new long[] { n, n }, generator: generator);
        using Tensor b = randn(new long[] { n, n }, generator: generator);
        using Tensor c = empty(n, n);
        matmul(a, b).Dispose(); // warm-up: threads, caches
        double best = 0, flops = 2.0 * n * n * n;
        for (int round = 0; round < rounds; round++)
        {
            int products = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < secondsPerRound)
            {
                c.copy_(matmul(a, b));
                products++;
            }
            best = Math.Max(best, products * flops / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }
}
