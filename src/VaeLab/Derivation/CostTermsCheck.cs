using VaeLab.Models;
using VaeLab.Objectives;
using TorchSharp;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Derivation;

/// <summary>
/// Check 4, the cost terms of the notes on the library's code: the regularisation cost (<see cref="GaussianKl"/>)
/// against dense linear algebra, Gauss–Hermite quadrature and a Monte Carlo average of the library's own
/// log q(z|x) − log p(z) at the library's samples; the log-densities of <see cref="DiagonalGaussian"/> against
/// TorchSharp's Normal; and every likelihood class as a normalised density (or mass) whose −log is the notes'
/// reproduction cost, Σ_i ½ log(2πσ_i²) + (x_i − μ_i)²/(2σ_i²) for each Gaussian variant.
/// </summary>
public sealed class CostTermsCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 4;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run(context.Components);

    /// <summary>The check's name in the report.</summary>
    public const string Name = "4 cost terms";

    /// <summary>Runs the check.</summary>
    /// <param name="components">The components under test (the library's by default): each likelihood passes through it.</param>
    /// <param name="seed">Seed of every draw.</param>
    /// <param name="samples">Monte Carlo draws for the KL estimate.</param>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null, long seed = 4, int samples = 100_000)
    {
        components ??= CheckedComponents.Library;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();

        // The regularisation cost.
        Tensor mean = randn(new long[] { 6, 5 }, ScalarType.Float64, generator: generator);
        Tensor logVariance = randn(new long[] { 6, 5 }, ScalarType.Float64, generator: generator).mul(1.5);
        rows.Add(MaxRow("KL(q ‖ p(z)): GaussianKl.ToStandardNormal = ½[tr Σ + μᵀμ − d − log|Σ|] by dense linear algebra",
            GaussianKl.ToStandardNormal(mean, logVariance), ReferenceGaussian.KlToStandardNormal(mean, logVariance.exp()), "Cholesky-based KL(N(μ, Σ) ‖ N(0, I)) with Σ = diag σ²"));
        rows.Add(MaxRow("KL per dimension: GaussianKl.PerDimension = E_q[log q − log p] by Gauss–Hermite quadrature",
            GaussianKl.PerDimension(mean, logVariance), ReferenceGaussian.KlPerDimensionByQuadrature(mean, logVariance.exp()), "12-node rule with Normal.log_prob; exact for the quadratic log-ratio"));
        Tensor zero = zeros(3, 5, dtype: ScalarType.Float64);
        rows.Add(DerivationRow.Equal(Name, "KL(q ‖ p(z)) = 0 at q = N(0, I)", GaussianKl.ToStandardNormal(zero, zero).abs().max().item<double>(), 0, 0, "GaussianKl, exactly"));

        Tensor m = mean[0].unsqueeze(0), lv = logVariance[0].unsqueeze(0);
        Tensor z = VariationalAutoencoder.Reparameterize(m.expand(samples, -1), lv.expand(samples, -1), generator);
        Tensor difference = DiagonalGaussian.LogDensity(z, m, lv) - DiagonalGaussian.LogStandardNormal(z);
        double mc = difference.mean().item<double>(), se = difference.std().item<double>() / Math.Sqrt(samples);
        rows.Add(DerivationRow.Equal(Name, "KL(q ‖ p(z)): GaussianKl = Monte Carlo mean of the library's log q(z|x) − log p(z) at its own samples",
            GaussianKl.ToStandardNormal(m, lv).item<double>(), mc, 4 * se,
            $"{samples:N0} draws of VariationalAutoencoder.Reparameterize; DiagonalGaussian.LogDensity − LogStandardNormal; tolerance 4 standard errors ({se:G2})"));
        Tensor points = randn(new long[] { 6, 5 }, ScalarType.Float64, generator: generator).mul(2);
        rows.Add(MaxRow("log q(z|x) = log N(z; μ, diag σ²): DiagonalGaussian.LogDensity = Normal.log_prob", DiagonalGaussian.LogDensity(points, mean, logVariance),
            ReferenceGaussian.LogDensity(points, mean, logVariance.mul(0.5).exp()), "TorchSharp's Normal distribution, σ = √(e^(log σ²))"));
        rows.Add(MaxRow("log p(z) = log N(z; 0, I): DiagonalGaussian.LogStandardNormal = Normal.log_prob", DiagonalGaussian.LogStandardNormal(points),
            ReferenceGaussian.LogStandardNormal(points), "TorchSharp's Normal(0, 1)"));

        // The reproduction cost: each likelihood class, built as the library builds it.
        foreach (GaussianVariance variance in Enum.GetValues<GaussianVariance>())
            rows.AddRange(GaussianRows(components, variance, generator));
        rows.AddRange(BernoulliRows(components, generator));
        return rows;
    }

    static IEnumerable<DerivationRow> GaussianRows(CheckedComponents components, GaussianVariance variance, Generator generator)
    {
        using var scope = NewDisposeScope();
        const int dimensions = 2, examples = 3;
        var library = new GaussianLikelihood(variance, dimensions, sigma: 0.7);
        library.to(ScalarType.Float64);
        foreach (var parameter in library.parameters())
            parameter.copy_(randn(parameter.shape, ScalarType.Float64, generator: generator).mul(1.5));   // learned σ values spread over [0.001, 10]
        Likelihood likelihood = components.Apply(library);
        Tensor output = randn(new long[] { examples, dimensions * library.OutputsPerDimension }, ScalarType.Float64, generator: generator).mul(1.5);
        string label = library.Description;

        // μ and σ read from the raw numbers by the documented layout, not through the likelihood's own accessors: the
        // decoder output is μ (then the raw log σ for DecoderOutput); a learned raw r gives log σ = min + (max − min)/(1 + e^(−r)).
        double[] raw = library.parameters().SelectMany(p => p.data<double>().ToArray()).ToArray(), outputs = output.data<double>().ToArray();
        int width = dimensions * library.OutputsPerDimension;
        double Bounded(double r) => Math.Exp(GaussianLikelihood.MinLogSigma + (GaussianLikelihood.MaxLogSigma - GaussianLikelihood.MinLogSigma) / (1 + Math.Exp(-r)));
        var ms = new double[examples * dimensions];
        var ss = new double[examples * dimensions];
        for (int n = 0; n < examples; n++)
            for (int i = 0; i < dimensions; i++)
            {
                ms[n * dimensions + i] = outputs[n * width + i];
                ss[n * dimensions + i] = variance switch
                {
                    GaussianVariance.Fixed => 0.7,
                    GaussianVariance.LearnedShared => Bounded(raw[0]),
                    GaussianVariance.LearnedPerDimension => Bounded(raw[i]),
                    _ => Bounded(outputs[n * width + dimensions + i]),
                };
            }

        // −log p(x|z) against the notes' reproduction cost summed in a loop over doubles.
        Tensor x = tensor(ms).view(examples, dimensions) + randn(new long[] { examples, dimensions }, ScalarType.Float64, generator: generator).mul(tensor(ss).view(examples, dimensions)).mul(2);
        double[] xs = x.contiguous().data<double>().ToArray();
        var cost = new double[examples];
        for (int n = 0; n < examples; n++)
            for (int i = 0; i < dimensions; i++)
            {
                double s = ss[n * dimensions + i], r = xs[n * dimensions + i] - ms[n * dimensions + i];
                cost[n] += 0.5 * Math.Log(2 * Math.PI * s * s) + r * r / (2 * s * s);
            }
        yield return MaxRow($"{label}: −log p(x|z) = Σ ½ log(2πσ²) + (x − μ)²/(2σ²)", likelihood.LogProb(x, output).neg(), tensor(cost),
            "Likelihood.LogProb against a C# loop over doubles, μ and σ taken from the decoder output and raw parameters by the documented layout");

        // Likelihood.Sample draws from p(x|z): per example and dimension, mean μ and variance σ².
        const int draws = 100_000;
        Tensor sampled = likelihood.Sample(output.repeat(draws, 1), generator).view(draws, examples, dimensions);
        Tensor mus = tensor(ms).view(examples, dimensions), variances = tensor(ss).view(examples, dimensions).square();
        double meanScore = sampled.mean([0]).sub(mus).div(variances.div(draws).sqrt()).abs().max().item<double>();
        double varianceScore = sampled.var(0).sub(variances).div(variances.mul(Math.Sqrt(2.0 / (draws - 1)))).abs().max().item<double>();
        double score = Math.Max(meanScore, varianceScore);
        yield return new DerivationRow(Name, $"{label}: Likelihood.Sample has mean μ and variance σ² (worst of {2 * examples * dimensions} standard scores)", meanScore, varianceScore, score, 4,
            $"{draws:N0} draws per decoder output; difference in standard errors, tolerance 4", score <= 4);

        // ∫ p(x|z) dx = 1 over R^2 by a tensor-product midpoint rule over μ ± 12σ in each dimension, per example.
        const int n1 = 400;
        double worst = 0, shown = 0;
        for (int e = 0; e < examples; e++)
        {
            using var inner = NewDisposeScope();
            Tensor[] axes = Enumerable.Range(0, dimensions).Select(i =>
            {
                double c = ms[e * dimensions + i], s = ss[e * dimensions + i];
                return arange(n1, dtype: ScalarType.Float64).add(0.5).mul(24.0 * s / n1).add(c - 12 * s);
            }).ToArray();
            Tensor grid = stack(meshgrid(axes, indexing: "ij").Select(g => g.reshape(-1)).ToArray(), 1);
            double logCell = Enumerable.Range(0, dimensions).Sum(i => Math.Log(24.0 * ss[e * dimensions + i] / n1));
            Tensor repeated = output[e].unsqueeze(0).expand(grid.shape[0], -1);
            double logIntegral = likelihood.LogProb(grid, repeated).logsumexp(0).item<double>() + logCell;
            if (Math.Abs(logIntegral) >= worst) { worst = Math.Abs(logIntegral); shown = Math.Exp(logIntegral); }
        }
        yield return new DerivationRow(Name, $"{label}: ∫ p(x|z) dx = 1 over R² (worst of {examples} decoder outputs)", shown, 1, worst, 1e-9,
            $"midpoint rule, {n1}² points over μ ± 12σ per dimension (σ from {ss.Min():G2} to {ss.Max():G2}); |log ∫|, tolerance 1e-9", worst <= 1e-9);
    }

    static IEnumerable<DerivationRow> BernoulliRows(CheckedComponents components, Generator generator)
    {
        using var scope = NewDisposeScope();
        const int dimensions = 4;
        Likelihood likelihood = components.Apply(new BernoulliLikelihood());
        Tensor logits = randn(new long[] { 1, dimensions }, ScalarType.Float64, generator: generator).mul(3);
        // Every x in {0, 1}^4.
        Tensor all = tensor(Enumerable.Range(0, 1 << dimensions).SelectMany(b => Enumerable.Range(0, dimensions).Select(i => (double)((b >> i) & 1))).ToArray()).view(-1, dimensions);
        Tensor logProb = likelihood.LogProb(all, logits.expand(all.shape[0], -1));
        double total = logProb.exp().sum().item<double>();
        yield return new DerivationRow(Name, "Bernoulli (logits): Σ over x ∈ {0, 1}⁴ of p(x|z) = 1", total, 1, Math.Abs(total - 1), 1e-12,
            "all 16 binary vectors; tolerance 1e-12", Math.Abs(total - 1) <= 1e-12);
        double[] l = logits.data<double>().ToArray(), xs = all.data<double>().ToArray();
        const int draws = 100_000;
        Tensor probability = tensor(l.Select(v => 1 / (1 + Math.Exp(-v))).ToArray());
        Tensor frequencies = likelihood.Sample(logits.expand(draws, -1), generator).mean([0]);
        double score = frequencies.sub(probability).div(probability.mul(probability.neg().add(1)).div(draws).sqrt()).abs().max().item<double>();
        yield return new DerivationRow(Name, $"Bernoulli (logits): Likelihood.Sample gives 1 with frequency p = 1/(1 + e^(−logit)) (worst of {dimensions} standard scores)",
            frequencies.mean().item<double>(), probability.mean().item<double>(), score, 4, $"{draws:N0} draws; difference in standard errors, tolerance 4", score <= 4);
        var reference = new double[all.shape[0]];
        for (int n = 0; n < reference.Length; n++)
            for (int i = 0; i < dimensions; i++)
            {
                double p = 1 / (1 + Math.Exp(-l[i]));
                reference[n] += xs[n * dimensions + i] == 1 ? Math.Log(p) : Math.Log(1 - p);
            }
        yield return MaxRow("Bernoulli (logits): log p(x|z) = Σ x log p + (1 − x) log(1 − p), p = 1/(1 + e^(−logit))", logProb, tensor(reference), "C# loop over doubles");
    }

    static DerivationRow MaxRow(string step, Tensor left, Tensor right, string method)
    {
        double worst = (left - right).abs().max().item<double>();
        return new DerivationRow(Name, step, left.sum().item<double>(), right.sum().item<double>(), worst, 1e-10, method + "; worst element, tolerance 1e-10", worst <= 1e-10);
    }
}
