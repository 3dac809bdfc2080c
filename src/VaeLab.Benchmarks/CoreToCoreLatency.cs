using System.Diagnostics;

namespace VaeLab.Benchmarks;

/// <summary>
/// The round-trip time of a cache line between two threads, each spinning on its own processor: how far apart the
/// machine's two cores are in its cache hierarchy. On a virtual machine the host decides where the vCPUs run; two vCPUs on
/// cores that share a last-level cache pass a line in tens of nanoseconds, two on different core complexes (AMD CCXs) take
/// several times longer, and every tensor one OpenMP thread writes and the other reads then crosses that distance.
/// </summary>
public static class CoreToCoreLatency
{
    /// <summary>
    /// Median nanoseconds per round trip over <paramref name="rounds"/> rounds of <paramref name="trips"/> trips each; NaN with
    /// fewer than two processors (or when the partner thread could not start).
    /// </summary>
    public static double Measure(int trips = 200_000, int rounds = 3)
    {
        if (Environment.ProcessorCount < 2) return double.NaN;
        var results = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            var line = new PaddedCounter();
            var partner = new Thread(() =>
            {
                // Answers each odd value with the next even one.
                for (long expected = 1; expected < 2L * trips; expected += 2)
                {
                    while (Volatile.Read(ref line.Value) != expected) Thread.SpinWait(1);
                    Volatile.Write(ref line.Value, expected + 1);
                }
            }) { IsBackground = true, Priority = ThreadPriority.Highest };
            partner.Start();
            var clock = Stopwatch.StartNew();
            for (long value = 0; value < 2L * trips; value += 2)
            {
                Volatile.Write(ref line.Value, value + 1);
                var wait = Stopwatch.StartNew();
                while (Volatile.Read(ref line.Value) != value + 2)
                {
                    Thread.SpinWait(1);
                    if (wait.ElapsedMilliseconds > 2000) return double.NaN;   // the partner never ran
                }
            }
            results[round] = clock.Elapsed.TotalMilliseconds * 1e6 / trips;
            partner.Join();
        }
        Array.Sort(results);
        return results[rounds / 2];
    }

    // One counter on its own 128-byte block, so no neighbouring data shares its cache line.
    sealed class PaddedCounter
    {
#pragma warning disable CS0169 // padding
        readonly long p0, p1, p2, p3, p4, p5, p6, p7;
#pragma warning restore CS0169
        public long Value;
#pragma warning disable CS0169
        readonly long q0, q1, q2, q3, q4, q5, q6, q7;
#pragma warning restore CS0169
    }
}
