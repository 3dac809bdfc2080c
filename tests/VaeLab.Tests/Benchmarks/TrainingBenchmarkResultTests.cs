using VaeLab.Benchmarks;

namespace VaeLab.Tests.Benchmarks;

public class TrainingBenchmarkResultTests
{
    static BenchRepetition Rep(double peak, double training) => new(peak, 1, training, 0, 0, 0, 30);

    [Fact]
    public void TheHeadlineIsTheMedianOfEachRepetitionsOwnRatio()
    {
        // Ratios 0.5, 0.3, 0.6: the median ratio is 0.5, not the ratio of the medians (100 / 160 = 0.625).
        var result = new TrainingBenchmarkResult("d", 60_000, 196.8, new[] { Rep(200, 100), Rep(100, 30), Rep(160, 96) }, 1000, 100, 72, 180);
        Assert.Equal(0.5, result.FractionOfPeak, 12);
        Assert.Equal((0.3, 0.6), (Math.Round(result.FractionRange.Min, 12), Math.Round(result.FractionRange.Max, 12)));
        Assert.Equal(160, result.PeakGflops);
        Assert.Equal(96, result.TrainingGflops);
        Assert.Equal(0.4, result.ImportanceFractionOfPeak, 12);
    }

    [Fact]
    public void AnEvenNumberOfRepetitionsAveragesTheMiddleTwo()
    {
        var result = new TrainingBenchmarkResult("d", 1, 1, new[] { Rep(100, 40), Rep(100, 60), Rep(100, 50), Rep(100, 70) }, 1, 1, 1, 1);
        Assert.Equal(0.55, result.FractionOfPeak, 12);
    }

    [Fact]
    public void CpuShareSeesThisProcessWorkAsItsOwn()
    {
        CpuShare before = CpuShare.Read();
        if (double.IsNaN(before.TotalTicks)) return;   // no /proc (not Linux): nothing to read
        double sink = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 0.3) sink += Math.Sqrt(clock.Elapsed.TotalMilliseconds);
        CpuShare after = CpuShare.Read();
        Assert.True(sink > 0);
        Assert.True(after.OwnTicks > before.OwnTicks, "0.3 s of spinning shows as this process's CPU time");
        Assert.InRange(after.OthersSince(before), 0, 1);
        Assert.InRange(after.StealSince(before), 0, 1);
    }

    [Fact]
    public void CoreToCoreRoundTripCompletesAndIsAPositiveTime()
    {
        // How long a trip takes depends on the machine and its load (a benchmark prints it, a test does not bound it): here
        // the partner answers every trip, so the measurement completes with a positive, finite time per trip.
        double ns = CoreToCoreLatency.Measure(trips: 20_000, rounds: 1);
        if (Environment.ProcessorCount < 2) { Assert.True(double.IsNaN(ns)); return; }
        Assert.True(double.IsFinite(ns) && ns > 0, $"{ns} ns per round trip");
    }
}
