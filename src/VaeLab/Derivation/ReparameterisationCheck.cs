using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 5, the sampling step f(μ, Σ) = μ + σ·ε as the library takes it (<see cref="VariationalAutoencoder.Reparameterize"/>):
/// its draws have mean μ and variance σ² = e^(log σ²); the pathwise gradient of E_q[g(z)] (g(z) = Σ_j sin z_j, whose
/// expectation sin μ · e^(−σ²/2) is known) equals central finite differences of the same estimate (same noise, by
/// reseeding), the score-function estimate within its confidence interval, and the exact gradient within its
/// standard error. Per-sample gradients are computed from the drawn z, not from the library's noise.
/// </summary>
public static class ReparameterisationCheck
{
    /// <summary>The check's name in the report.</summary>
    public const string Name = "5 reparameterisation";

    /// <summary>Runs the check.</summary>
    public static IReadOnlyList<DerivationRow> Run(long seed = 5, int samples = 200_000)
    {
        using var scope = NewDisposeScope();
        var rows = new List<DerivationRow>();
        double[] mu = [0.7, -1.3, 0.2], logVar = [-0.6, 0.4, -1.5];
        int d = mu.Length;

        // The library's draws for parameters (μ, log σ²), always from the same seed: the same ε each time.
        Tensor Draw(Tensor mean, Tensor logVariance)
        {
            using var generator = new Generator((ulong)seed);
            return VariationalAutoencoder.Reparameterize(mean.expand(samples, -1), logVariance.expand(samples, -1), generator);
        }

        Tensor mean = tensor(mu).view(1, d), logVariance = tensor(logVar).view(1, d);
        Tensor z;
        using (no_grad()) z = Draw(mean, logVariance);
        double[] zMean = z.mean([0]).data<double>().ToArray(), zVar = z.var(0).data<double>().ToArray();
        double worstMean = 0, worstMeanTolerance = 1, worstVar = 0, worstVarTolerance = 1;
        for (int j = 0; j < d; j++)
        {
            double variance = Math.Exp(logVar[j]);
            double meanSe = Math.Sqrt(variance / samples), varSe = variance * Math.Sqrt(2.0 / (samples - 1));
            if (Math.Abs(zMean[j] - mu[j]) / meanSe > worstMean / worstMeanTolerance) { worstMean = Math.Abs(zMean[j] - mu[j]); worstMeanTolerance = 4 * meanSe; }
            if (Math.Abs(zVar[j] - variance) / varSe > worstVar / worstVarTolerance) { worstVar = Math.Abs(zVar[j] - variance); worstVarTolerance = 4 * varSe; }
        }
        rows.Add(new DerivationRow(Name, "mean of Reparameterize(μ, log σ²) = μ (worst dimension)", zMean.Average(), mu.Average(), worstMean, worstMeanTolerance,
            $"{samples:N0} draws; tolerance 4 standard errors", worstMean <= worstMeanTolerance));
        rows.Add(new DerivationRow(Name, "variance of Reparameterize(μ, log σ²) = e^(log σ²) (worst dimension)", zVar.Average(), logVar.Average(Math.Exp), worstVar, worstVarTolerance,
            $"{samples:N0} draws; tolerance 4 standard errors of a sample variance", worstVar <= worstVarTolerance));

        // Pathwise gradient with respect to μ and log σ², by autodiff through the library's sampling step.
        Tensor m = mean.clone().requires_grad_(true), lv = logVariance.clone().requires_grad_(true);
        Tensor perSample = Draw(m, lv).sin().sum(1);
        var gradients = autograd.grad([perSample.mean()], [m, lv]);
        double[] pathwise = [.. gradients[0].data<double>().ToArray(), .. gradients[1].data<double>().ToArray()];

        // The same estimate differentiated by central finite differences (same seed, so the same ε).
        const double h = 1e-5;
        var finite = new double[2 * d];
        using (no_grad())
            for (int i = 0; i < 2 * d; i++)
            {
                double Estimate(double shift)
                {
                    using var inner = NewDisposeScope();
                    double[] mm = (double[])mu.Clone(), ll = (double[])logVar.Clone();
                    if (i < d) mm[i] += shift; else ll[i - d] += shift;
                    return Draw(tensor(mm).view(1, d), tensor(ll).view(1, d)).sin().sum(1).mean().item<double>();
                }
                finite[i] = (Estimate(h) - Estimate(-h)) / (2 * h);
            }
        double worstFd = pathwise.Zip(finite).Max(p => Math.Abs(p.First - p.Second));
        rows.Add(new DerivationRow(Name, "pathwise ∇(μ, log σ²) E_q[g] = central finite differences of the same estimate (worst component)",
            pathwise.Sum(), finite.Sum(), worstFd, 1e-6, "autodiff through Reparameterize against (f(θ+h) − f(θ−h))/2h, h = 1e-5, float64, same seed", worstFd <= 1e-6));

        // Per-sample gradients from the drawn z: pathwise ∂/∂μ = cos z, ∂/∂log σ² = cos z · (z − μ)/2;
        // score function g(z)·∇ log q(z) with ∂/∂μ log q = (z − μ)/σ², ∂/∂log σ² log q = ½((z − μ)²/σ² − 1).
        using (no_grad())
        {
            Tensor variances = tensor(logVar.Select(Math.Exp).ToArray()).view(1, d);
            Tensor centred = z - mean;
            Tensor g = z.sin().sum(1, keepdim: true);
            Tensor pathAll = cat([z.cos(), z.cos() * centred * 0.5], 1);
            Tensor scoreAll = cat([g * centred / variances, g * (centred.square() / variances - 1) * 0.5], 1);
            double[] pathSe = pathAll.std(0).div(Math.Sqrt(samples)).data<double>().ToArray();
            double[] scoreMean = scoreAll.mean([0]).data<double>().ToArray(), scoreSe = scoreAll.std(0).div(Math.Sqrt(samples)).data<double>().ToArray();
            double[] exact = new double[2 * d];
            for (int j = 0; j < d; j++)
            {
                double v = Math.Exp(logVar[j]), damping = Math.Exp(-v / 2);
                exact[j] = Math.Cos(mu[j]) * damping;
                exact[d + j] = -Math.Sin(mu[j]) * damping * v / 2;
            }
            rows.Add(WorstRow("pathwise gradient = score-function gradient (worst component)", pathwise, scoreMean,
                pathSe.Zip(scoreSe, (a, b) => 4 * Math.Sqrt(a * a + b * b)).ToArray(), "both unbiased estimates; tolerance 4 joint standard errors"));
            rows.Add(WorstRow("pathwise gradient = exact ∇ Σ sin μ · e^(−σ²/2) (worst component)", pathwise, exact,
                pathSe.Select(s => 4 * s).ToArray(), "tolerance 4 standard errors of the pathwise estimate"));
        }
        return rows;
    }

    static DerivationRow WorstRow(string step, double[] left, double[] right, double[] tolerance, string method)
    {
        int worst = Enumerable.Range(0, left.Length).MaxBy(i => Math.Abs(left[i] - right[i]) / tolerance[i]);
        double difference = Math.Abs(left[worst] - right[worst]);
        return new DerivationRow(Name, step, left[worst], right[worst], difference, tolerance[worst], method, difference <= tolerance[worst]);
    }
}
