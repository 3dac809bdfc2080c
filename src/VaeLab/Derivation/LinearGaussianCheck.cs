using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 1, exact: on the linear-Gaussian model every quantity of the identity log p(x) = ELBO + KL(q ‖ p(z|x))
/// has a closed form, so for any diagonal Gaussian q the two sides agree to float64 round-off.
/// </summary>
public static class LinearGaussianCheck
{
    /// <summary>The check's name in the report.</summary>
    public const string Name = "1 linear-Gaussian (exact)";

    /// <summary>Runs the check on a random model with D = <paramref name="dataDimensions"/>, d = <paramref name="latentDimensions"/>.</summary>
    public static IReadOnlyList<DerivationRow> Run(DerivationFormulas formulas, long seed = 1, int dataDimensions = 784, int latentDimensions = 20, int examples = 8, int monteCarloSamples = 20_000)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();
        using var model = LinearGaussianModel.Random(dataDimensions, latentDimensions, sigma: 0.5, seed, weightScale: 0.2);
        var (x, _) = model.Sample(examples, generator);

        // An arbitrary diagonal q: the posterior mean shifted, random variances.
        var (posteriorMean, posteriorCovariance) = model.Posterior(x);
        Tensor qMean = posteriorMean + randn(posteriorMean.shape, ScalarType.Float64, generator: generator).mul(0.3);
        Tensor qLogVariance = randn(posteriorMean.shape, ScalarType.Float64, generator: generator).mul(0.5).sub(3);

        Tensor logMarginal = model.LogMarginal(x);
        Tensor elbo = Elbo(model, formulas, x, qMean, qLogVariance);
        Tensor klToPosterior = KlToPosterior(model, x, qMean, qLogVariance);
        rows.Add(MaxRow("log p(x) − ELBO(q) = KL(q ‖ p(z|x))", logMarginal - elbo, klToPosterior, 1e-8,
            "left: log N(x; b, WWᵀ+σ²I) by Woodbury minus closed-form ELBO; right: Gaussian KL to the exact posterior N(M⁻¹Wᵀ(x−b), σ²M⁻¹)"));
        double smallestKl = klToPosterior.min().item<double>();
        rows.Add(DerivationRow.AtMost(Name, "KL(q ‖ p(z|x)) ≥ 0 (smallest over the batch)", 0, smallestKl, 0, "closed form"));

        // q = the exact posterior: with orthogonal columns of W it is diagonal, so q can equal it and the bound is tight.
        using var orthogonal = LinearGaussianModel.Random(dataDimensions, latentDimensions, sigma: 0.5, seed + 1, orthogonalColumns: true, weightScale: 0.2);
        var (xo, _) = orthogonal.Sample(examples, generator);
        var (exactMean, exactCovariance) = orthogonal.Posterior(xo);
        Tensor exactLogVariance = exactCovariance.diagonal().log().unsqueeze(0).expand(examples, -1);
        Tensor tight = Elbo(orthogonal, formulas, xo, exactMean, exactLogVariance);
        rows.Add(MaxRow("ELBO(q) = log p(x) when q = p(z|x)", tight, orthogonal.LogMarginal(xo), 1e-8,
            "W with orthogonal columns (diagonal posterior); closed-form ELBO against log N(x; b, WWᵀ+σ²I)"));

        // The closed-form reconstruction term against a Monte Carlo average over reparameterised z.
        Tensor closed = ExpectedLogLikelihood(model, formulas, x, qMean, qLogVariance);
        Tensor epsilon = randn(new long[] { monteCarloSamples, latentDimensions }, ScalarType.Float64, generator: generator);
        Tensor z = formulas.Reparameterize(qMean[0].unsqueeze(0), qLogVariance[0].unsqueeze(0), epsilon);
        Tensor reconstruction = model.Weight.matmul(z.t()).t().add(model.Bias);
        Tensor logLikelihood = formulas.GaussianNegativeLogLikelihood(x[0].unsqueeze(0).expand(monteCarloSamples, -1), reconstruction, full(new long[] { 1, 1 }, Math.Log(model.Sigma), ScalarType.Float64)).neg();
        double mc = logLikelihood.mean().item<double>(), se = logLikelihood.std().item<double>() / Math.Sqrt(monteCarloSamples);
        rows.Add(DerivationRow.Equal(Name, "E_q[log p(x|z)]: closed form = Monte Carlo (first example)", closed[0].item<double>(), mc, 4 * se,
            $"closed form −D/2 log 2πσ² − (‖x−Wm−b‖² + Σ s²‖W_j‖²)/2σ² against {monteCarloSamples:N0} draws z = m + s·ε; tolerance 4 standard errors"));
        return rows;
    }

    static DerivationRow MaxRow(string step, Tensor left, Tensor right, double tolerance, string method)
    {
        double worst = (left - right).abs().max().item<double>();
        return new DerivationRow(Name, step + " (worst example)", left.mean().item<double>(), right.mean().item<double>(), worst, tolerance, method, worst <= tolerance);
    }

    /// <summary>E_q[log p(x|z)] in closed form, built from the Gaussian cost of the notes: −cost(x; Wm + b, σ) − Σ_j s_j² ‖W_j‖² / 2σ².</summary>
    public static Tensor ExpectedLogLikelihood(LinearGaussianModel model, DerivationFormulas formulas, Tensor x, Tensor qMean, Tensor qLogVariance)
    {
        using var scope = NewDisposeScope();
        Tensor mean = qMean.matmul(model.Weight.t()).add(model.Bias);
        Tensor cost = formulas.GaussianNegativeLogLikelihood(x, mean, full(new long[] { 1, 1 }, Math.Log(model.Sigma), ScalarType.Float64));
        Tensor columnNorms = model.Weight.square().sum([0]);
        Tensor spread = qLogVariance.exp().mul(columnNorms).sum(1).div(2 * model.Sigma * model.Sigma);
        return cost.neg().sub(spread).MoveToOuterDisposeScope();
    }

    /// <summary>The closed-form ELBO of a diagonal q: E_q[log p(x|z)] − KL(q ‖ p(z)).</summary>
    public static Tensor Elbo(LinearGaussianModel model, DerivationFormulas formulas, Tensor x, Tensor qMean, Tensor qLogVariance)
    {
        using var scope = NewDisposeScope();
        return ExpectedLogLikelihood(model, formulas, x, qMean, qLogVariance).sub(formulas.Kl(qMean, qLogVariance)).MoveToOuterDisposeScope();
    }

    /// <summary>KL(N(m, diag s²) ‖ N(μ_p, Σ_p)) to the exact posterior, Σ_p = σ²M⁻¹: ½[tr(Σ_p⁻¹S) + Δᵀ Σ_p⁻¹ Δ − d + log|Σ_p| − log|S|].</summary>
    public static Tensor KlToPosterior(LinearGaussianModel model, Tensor x, Tensor qMean, Tensor qLogVariance)
    {
        using var scope = NewDisposeScope();
        double variance = model.Sigma * model.Sigma;
        long d = model.LatentDimensions;
        Tensor m = model.PrecisionMatrix();                  // Σ_p⁻¹ = M / σ²
        Tensor posteriorMean = model.Posterior(x).Mean;
        Tensor delta = posteriorMean - qMean;               // [N, d]
        Tensor trace = qLogVariance.exp().mul(m.diagonal()).sum(1).div(variance);
        Tensor quadratic = delta.matmul(m).mul(delta).sum(1).div(variance);
        double logDetPosterior = d * Math.Log(variance) - linalg.slogdet(m).Item2.item<double>();
        Tensor logDetQ = qLogVariance.sum(1);
        return trace.add(quadratic).sub(d).add(logDetPosterior).sub(logDetQ).mul(0.5).MoveToOuterDisposeScope();
    }
}
