using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>One Monte Carlo estimate of KL(q ‖ p(z)) from N draws, against the analytic value.</summary>
/// <param name="Samples">N.</param>
/// <param name="EstimateNats">Mean of log q(z) − log p(z) over the N draws.</param>
/// <param name="AbsoluteErrorNats">|estimate − analytic|.</param>
/// <param name="StandardErrorNats">The estimate's standard error, sd/√N: the 1/√N line the error follows.</param>
public sealed record KlConvergencePoint(int Samples, double EstimateNats, double AbsoluteErrorNats, double StandardErrorNats);

/// <summary>
/// The Monte Carlo KL converging to the analytic one as the sample grows (the figure of check 4): the library's
/// samples (<see cref="VariationalAutoencoder.Reparameterize"/>) and log-densities (<see cref="DiagonalGaussian"/>)
/// against <see cref="GaussianKl"/>.
/// </summary>
public static class KlConvergence
{
    /// <summary>Estimates for N = 10, 30, …, 10⁶ (or <paramref name="sampleSizes"/>), each from fresh draws; also returns the analytic KL.</summary>
    public static (double AnalyticNats, IReadOnlyList<KlConvergencePoint> Points) Run(long seed = 6, int[]? sampleSizes = null)
    {
        sampleSizes ??= [10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        Tensor mean = tensor(new double[] { 0.8, -0.4, 1.5, 0.0, -1.1 }).view(1, 5);
        Tensor logVariance = tensor(new double[] { -1.0, 0.5, -0.2, 0.9, -2.0 }).view(1, 5);
        double analytic = GaussianKl.ToStandardNormal(mean, logVariance).item<double>();
        var points = new List<KlConvergencePoint>();
        foreach (int n in sampleSizes)
        {
            using var inner = NewDisposeScope();
            Tensor z = VariationalAutoencoder.Reparameterize(mean.expand(n, -1), logVariance.expand(n, -1), generator);
            Tensor difference = DiagonalGaussian.LogDensity(z, mean, logVariance) - DiagonalGaussian.LogStandardNormal(z);
            double estimate = difference.mean().item<double>();
            double se = n > 1 ? difference.std().item<double>() / Math.Sqrt(n) : double.NaN;
            points.Add(new KlConvergencePoint(n, estimate, Math.Abs(estimate - analytic), se));
        }
        return (analytic, points);
    }
}
