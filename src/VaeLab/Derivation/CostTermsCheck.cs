using TorchSharp.Modules;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 4, the cost terms of the notes: the regularisation cost (analytic KL) against its Monte Carlo
/// estimate and its zero at q = N(0, I); the reproduction cost (Gaussian) against TorchSharp's Normal and a
/// float64 sum written out here.
/// </summary>
public static class CostTermsCheck
{
    /// <summary>The check's name in the report.</summary>
    public const string Name = "4 cost terms";

    /// <summary>Runs the check.</summary>
    public static IReadOnlyList<DerivationRow> Run(DerivationFormulas formulas, long seed = 4, int samples = 100_000)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();
        double log2Pi = Math.Log(2 * Math.PI);

        Tensor mean = tensor(new double[] { 0.8, -0.4, 1.5, 0.0, -1.1 }).view(1, 5);
        Tensor logVariance = tensor(new double[] { -1.0, 0.5, -0.2, 0.9, -2.0 }).view(1, 5);
        double analytic = formulas.Kl(mean, logVariance).item<double>();
        Tensor epsilon = randn(new long[] { samples, 5 }, ScalarType.Float64, generator: generator);
        Tensor z = mean + logVariance.mul(0.5).exp() * epsilon;
        Tensor logQ = epsilon.square().add(logVariance).add(log2Pi).sum(1).mul(-0.5);
        Tensor logP = z.square().add(log2Pi).sum(1).mul(-0.5);
        Tensor difference = logQ - logP;
        double mc = difference.mean().item<double>(), se = difference.std().item<double>() / Math.Sqrt(samples);
        rows.Add(DerivationRow.Equal(Name, "KL(q ‖ p(z)): analytic ½Σ(μ² + σ² − 1 − log σ²) = Monte Carlo E_q[log q − log p]", analytic, mc, 4 * se,
            $"{samples:N0} draws; tolerance 4 standard errors"));
        Tensor zero = zeros(3, 5, dtype: ScalarType.Float64);
        rows.Add(DerivationRow.Equal(Name, "KL(q ‖ p(z)) = 0 at q = N(0, I)", formulas.Kl(zero, zero).abs().max().item<double>(), 0, 0, "analytic, exactly"));

        Tensor x = randn(new long[] { 4, 6 }, ScalarType.Float64, generator: generator);
        Tensor mu = randn(new long[] { 4, 6 }, ScalarType.Float64, generator: generator);
        Tensor logSigma = randn(new long[] { 1, 6 }, ScalarType.Float64, generator: generator).mul(0.5);
        Tensor cost = formulas.GaussianNegativeLogLikelihood(x, mu, logSigma);
        using var normal = new Normal(mu, logSigma.exp().expand(4, -1));
        Tensor reference = normal.log_prob(x).sum(1).neg();
        rows.Add(MaxRow("reproduction cost Σ ½log(2πσ²) + (x−μ)²/2σ² = −Σ log Normal(x; μ, σ)", cost, reference, "TorchSharp's Normal.log_prob, float64"));
        double[] handSum = HandCost(x, mu, logSigma);
        rows.Add(MaxRow("reproduction cost = a float64 sum written out element by element", cost, tensor(handSum), "C# loop over doubles"));
        using var likelihood = new GaussianLikelihood(GaussianVariance.Fixed, 6, Math.Exp(logSigma[0, 0].item<double>()));
        Tensor sameSigma = logSigma[0, 0].expand(1, 6);
        rows.Add(MaxRow("VaeLab's GaussianLikelihood (fixed σ) = the same float64 sum", likelihood.LogProb(x, mu).neg(), tensor(HandCost(x, mu, sameSigma)), "Models/GaussianLikelihood against a C# loop"));
        return rows;
    }

    static DerivationRow MaxRow(string step, Tensor left, Tensor right, string method)
    {
        double worst = (left - right).abs().max().item<double>();
        return new DerivationRow(Name, step, left.sum().item<double>(), right.sum().item<double>(), worst, 1e-10, method + "; worst example, tolerance 1e-10", worst <= 1e-10);
    }

    static double[] HandCost(Tensor x, Tensor mu, Tensor logSigma)
    {
        double[] xs = x.data<double>().ToArray(), ms = mu.data<double>().ToArray(), ls = logSigma.contiguous().data<double>().ToArray();
        int rows = (int)x.shape[0], columns = (int)x.shape[1];
        var result = new double[rows];
        for (int n = 0; n < rows; n++)
            for (int i = 0; i < columns; i++)
            {
                double s = Math.Exp(ls[i]), r = xs[n * columns + i] - ms[n * columns + i];
                result[n] += 0.5 * Math.Log(2 * Math.PI * s * s) + r * r / (2 * s * s);
            }
        return result;
    }
}
