using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 5, the sampling step f(μ, Σ) = μ + σ·ε: its draws have mean μ and variance σ²; the pathwise gradient
/// of E_q[g(z)] (g(z) = Σ_j sin z_j, whose expectation sin μ · e^(−σ²/2) is known) equals central finite
/// differences of the same estimate, the score-function estimate within its confidence interval, and the
/// exact gradient within its standard error.
/// </summary>
public static class ReparameterisationCheck
{
    /// <summary>The check's name in the report.</summary>
    public const string Name = "5 reparameterisation";

    /// <summary>Runs the check.</summary>
    public static IReadOnlyList<DerivationRow> Run(DerivationFormulas formulas, long seed = 5, int samples = 200_000)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();
        double[] mu = [0.7, -1.3, 0.2], logVar = [-0.6, 0.4, -1.5];
        int d = mu.Length;
        Tensor mean = tensor(mu).view(1, d), logVariance = tensor(logVar).view(1, d);
        Tensor epsilon = randn(new long[] { samples, d }, ScalarType.Float64, generator: generator);

        // Moments of z.
        Tensor z = formulas.Reparameterize(mean, logVariance, epsilon);
        double[] zMean = z.mean([0]).data<double>().ToArray(), zVar = z.var(0).data<double>().ToArray();
        double worstMean = 0, worstMeanTolerance = 1, worstVar = 0, worstVarTolerance = 1;
        for (int j = 0; j < d; j++)
        {
            double variance = Math.Exp(logVar[j]);
            double meanSe = Math.Sqrt(variance / samples), varSe = variance * Math.Sqrt(2.0 / (samples - 1));
            if (Math.Abs(zMean[j] - mu[j]) / meanSe > worstMean / worstMeanTolerance) { worstMean = Math.Abs(zMean[j] - mu[j]); worstMeanTolerance = 4 * meanSe; }
            if (Math.Abs(zVar[j] - variance) / varSe > worstVar / worstVarTolerance) { worstVar = Math.Abs(zVar[j] - variance); worstVarTolerance = 4 * varSe; }
        }
        rows.Add(new DerivationRow(Name, "mean of μ + σ·ε = μ (worst dimension)", zMean.Average(), mu.Average(), worstMean, worstMeanTolerance,
            $"{samples:N0} draws; tolerance 4 standard errors", worstMean <= worstMeanTolerance));
        rows.Add(new DerivationRow(Name, "variance of μ + σ·ε = σ² (worst dimension)", zVar.Average(), logVar.Average(Math.Exp), worstVar, worstVarTolerance,
            $"{samples:N0} draws; tolerance 4 standard errors of a sample variance", worstVar <= worstVarTolerance));

        // Pathwise gradient with respect to μ and log σ², by autodiff through the sampling step.
        Tensor m = mean.clone().requires_grad_(true), lv = logVariance.clone().requires_grad_(true);
        Tensor perSample = formulas.Reparameterize(m, lv, epsilon).sin().sum(1);
        var gradients = autograd.grad([perSample.mean()], [m, lv]);
        double[] pathwise = [.. gradients[0].data<double>().ToArray(), .. gradients[1].data<double>().ToArray()];

        // The same estimate differentiated by central finite differences (same ε).
        const double h = 1e-5;
        var finite = new double[2 * d];
        for (int i = 0; i < 2 * d; i++)
        {
            double Estimate(double shift)
            {
                using var inner = NewDisposeScope();
                double[] mm = (double[])mu.Clone(), ll = (double[])logVar.Clone();
                if (i < d) mm[i] += shift; else ll[i - d] += shift;
                return formulas.Reparameterize(tensor(mm).view(1, d), tensor(ll).view(1, d), epsilon).sin().sum(1).mean().item<double>();
            }
            finite[i] = (Estimate(h) - Estimate(-h)) / (2 * h);
        }
        double worstFd = pathwise.Zip(finite).Max(p => Math.Abs(p.First - p.Second));
        rows.Add(new DerivationRow(Name, "pathwise ∇(μ, log σ²) E_q[g] = central finite differences of the same estimate (worst component)",
            pathwise.Sum(), finite.Sum(), worstFd, 1e-6, "autodiff against (f(θ+h) − f(θ−h))/2h, h = 1e-5, float64, same ε", worstFd <= 1e-6));

        // Per-sample gradients for standard errors: pathwise ∂/∂μ = cos z, ∂/∂lv = cos z · ε σ/2; score function g(z)·∇ log q.
        Tensor sigma = logVariance.mul(0.5).exp();
        Tensor zz = mean + sigma * epsilon;
        Tensor g = zz.sin().sum(1, keepdim: true);
        Tensor pathMu = zz.cos(), pathLv = zz.cos() * epsilon * sigma * 0.5;
        Tensor scoreMu = g * epsilon / sigma, scoreLv = g * (epsilon.square() - 1) * 0.5;
        Tensor pathAll = cat([pathMu, pathLv], 1), scoreAll = cat([scoreMu, scoreLv], 1);
        double[] pathMean = pathAll.mean([0]).data<double>().ToArray(), pathSe = pathAll.std(0).div(Math.Sqrt(samples)).data<double>().ToArray();
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
        return rows;
    }

    static DerivationRow WorstRow(string step, double[] left, double[] right, double[] tolerance, string method)
    {
        int worst = Enumerable.Range(0, left.Length).MaxBy(i => Math.Abs(left[i] - right[i]) / tolerance[i]);
        double difference = Math.Abs(left[worst] - right[worst]);
        return new DerivationRow(Name, step, left[worst], right[worst], difference, tolerance[worst], method, difference <= tolerance[worst]);
    }
}
