using VaeLab.Models;
using VaeLab.Models.Priors;
using VaeLab.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 11, the priors, on the production classes in float64 with a 2-D latent: each prior's density integrates to 1 on a grid
/// and its sampler's moments match the density's; the mixture's and the VampPrior's log p(z) against sums written out component
/// by component (the VampPrior's pseudo-inputs encoded one at a time); the ELBO's KL(q ‖ p) for each prior against quadrature; and
/// the importance-weighted log p(x) with each prior against log ∫ p(x|z) p(z) dz on the grid.
/// </summary>
public sealed class PriorsCheck : IDerivationCheck
{
    /// <inheritdoc />
    public int Number => 11;

    string IDerivationCheck.Name => Name;

    /// <summary>The check's name in the table.</summary>
    public const string Name = "11 priors";

    /// <summary>The priors checked.</summary>
    public static readonly string[] Priors = ["Standard", "Mixture:3", "Vamp:3"];

    const double HalfWidth = 9;
    const int Points = 721;

    /// <inheritdoc />
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run();

    /// <summary>Runs every row with the given seed.</summary>
    public static IReadOnlyList<DerivationRow> Run(long seed = 11)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();
        foreach (string prior in Priors)
        {
            using VariationalAutoencoder model = TestModel(PriorSpec.Parse(prior), seed);
            rows.AddRange(GridRows(model, generator));
            if (model.Prior is MixturePrior mixture) rows.Add(MixtureRow(mixture, generator));
            if (model.Prior is VampPrior vamp) rows.Add(VampRow(model, vamp, generator));
            rows.Add(KlRow(model, generator));
            rows.Add(MarginalRow(model, generator));
        }
        return rows;
    }

    // A small float64 model (input 1×4×4, latent 2) whose prior is far from N(0, I): spread-out mixture means, unequal weights and
    // variances; pseudo-inputs drawn uniformly on [0, 1] so the VampPrior's components differ.
    internal static VariationalAutoencoder TestModel(PriorSpec prior, long seed)
    {
        manual_seed(seed);
        VariationalAutoencoder model = new VaeConfig([1, 4, 4], LatentDimensions: 2, HiddenSizes: [8], Prior: prior).Build();
        model.to(ScalarType.Float64);
        using (no_grad())
        {
            if (model.Prior is MixturePrior mixture)
            {
                mixture.Means.copy_(tensor(new double[] { -2.5, 1.0, 2.0, 2.0, 0.5, -2.0 }).view(3, 2));
                mixture.LogVariances.copy_(tensor(new double[] { -0.5, 0.2, 0.4, -1.0, 0.0, 0.3 }).view(3, 2));
                mixture.Logits.copy_(tensor(new double[] { 0.3, -0.8, 1.1 }));
            }
            if (model.Prior is VampPrior vamp)
                foreach (var (name, parameter) in vamp.named_parameters()) parameter.uniform_(-0.2, 1.2);
            // Wider encoder outputs so the VampPrior's components sit apart.
            foreach (var (name, parameter) in model.Encoder.named_parameters()) parameter.mul_(3);
        }
        return model;
    }

    static (Tensor Grid, double Step) Grid()
    {
        Tensor axis = linspace(-HalfWidth, HalfWidth, Points, ScalarType.Float64);
        Tensor[] mesh = meshgrid([axis, axis], indexing: "ij");
        return (stack([mesh[0].flatten(), mesh[1].flatten()], 1), 2 * HalfWidth / (Points - 1));
    }

    static List<DerivationRow> GridRows(VariationalAutoencoder model, Generator generator)
    {
        using var scope = NewDisposeScope();
        Prior prior = model.Prior;
        var (grid, step) = Grid();
        Tensor density;
        using (no_grad()) density = prior.LogDensity(grid).exp();
        double mass = density.sum().item<double>() * step * step;
        var rows = new List<DerivationRow>
        {
            DerivationRow.Equal(Name, $"{prior.Spec}: ∫ p(z) dz = 1 (2-D grid)", mass, 1, 1e-6,
                $"exp of {prior.GetType().Name}.LogDensity on a {Points}² grid over [−{HalfWidth}, {HalfWidth}]², trapezoid rule"),
        };
        const int samples = 200_000;
        Tensor z;
        using (no_grad()) z = prior.Sample(samples, generator, ScalarType.Float64);
        rows.Add(SamplerMoments.Row(Name, prior.Spec.ToString(), z, grid, density, step * step, mass, $"{prior.GetType().Name}.Sample"));
        return rows;
    }

    // Σ_k π_k Π_j N(z_j; m_kj, s_kj²) with π_k = e^{w_k} / Σ e^{w}, in plain double arithmetic, one point and one component at a time.
    static DerivationRow MixtureRow(MixturePrior mixture, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor z = randn(new long[] { 40, 2 }, ScalarType.Float64, generator: generator).mul(3);
        double[] production;
        using (no_grad()) production = mixture.LogDensity(z).data<double>().ToArray();
        double[] m = mixture.Means.data<double>().ToArray(), v = mixture.LogVariances.exp().data<double>().ToArray(), w = mixture.Logits.data<double>().ToArray();
        double normaliser = w.Sum(Math.Exp);
        double worst = 0;
        for (int i = 0; i < production.Length; i++)
        {
            double point0 = z[i, 0].item<double>(), point1 = z[i, 1].item<double>(), sum = 0;
            for (int k = 0; k < mixture.Components; k++)
            {
                double density = Math.Exp(w[k]) / normaliser;
                density *= Math.Exp(-0.5 * (point0 - m[2 * k]) * (point0 - m[2 * k]) / v[2 * k]) / Math.Sqrt(2 * Math.PI * v[2 * k]);
                density *= Math.Exp(-0.5 * (point1 - m[2 * k + 1]) * (point1 - m[2 * k + 1]) / v[2 * k + 1]) / Math.Sqrt(2 * Math.PI * v[2 * k + 1]);
                sum += density;
            }
            worst = Math.Max(worst, Math.Abs(production[i] - Math.Log(sum)));
        }
        return new DerivationRow(Name, $"{mixture.Spec}: log p(z) = log Σ_k π_k N(z; m_k, s_k²) (worst of 40 points)", worst, 0, worst, 1e-10,
            "MixturePrior.LogDensity against the sum written out with π = e^w / Σe^w, one point and component at a time", worst <= 1e-10);
    }

    // (1/K) Σ_k q(z | λ(u_k)), each pseudo-input encoded on its own, q written out as a product of 1-D Gaussians.
    static DerivationRow VampRow(VariationalAutoencoder model, VampPrior vamp, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor z = randn(new long[] { 40, 2 }, ScalarType.Float64, generator: generator).mul(3);
        double[] production;
        using (no_grad()) production = vamp.LogDensity(z).data<double>().ToArray();
        Tensor inputs = vamp.PseudoInputs;
        var components = new List<double[]>();
        using (no_grad())
            for (int k = 0; k < vamp.Components; k++)
                components.Add(model.Encode(inputs.narrow(0, k, 1)).data<double>().ToArray());   // [μ₁, μ₂, log σ₁², log σ₂²]
        double worst = 0;
        for (int i = 0; i < production.Length; i++)
        {
            double[] point = [z[i, 0].item<double>(), z[i, 1].item<double>()];
            double sum = 0;
            foreach (double[] lambda in components)
            {
                double density = 1;
                for (int j = 0; j < 2; j++)
                {
                    double variance = Math.Exp(lambda[2 + j]);
                    density *= Math.Exp(-0.5 * (point[j] - lambda[j]) * (point[j] - lambda[j]) / variance) / Math.Sqrt(2 * Math.PI * variance);
                }
                sum += density;
            }
            worst = Math.Max(worst, Math.Abs(production[i] - Math.Log(sum / vamp.Components)));
        }
        return new DerivationRow(Name, $"{vamp.Spec}: log p(z) = log (1/K) Σ_k q(z | u_k) (worst of 40 points)", worst, 0, worst, 1e-10,
            "VampPrior.LogDensity (one encoder pass over all pseudo-inputs) against a loop encoding each pseudo-input alone", worst <= 1e-10);
    }

    // log p(x) = log ∫ p(x|z) p(z) dz on the grid, against the importance-weighted estimate from ImportanceWeightedBound.LogWeights
    // (whose weights carry the model's prior); tolerance 4 delta-method standard errors of the log-mean-exp.
    static DerivationRow MarginalRow(VariationalAutoencoder model, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor x = rand(new long[] { 1, 16 }, ScalarType.Float64, generator: generator);
        var (grid, step) = Grid();
        const int k = 50_000;
        double quadrature, estimate, se;
        using (no_grad())
        {
            Tensor logJoint = model.Likelihood.LogProb(x.expand(grid.shape[0], -1), model.Decode(grid)).add(model.Prior.LogDensity(grid));
            quadrature = logJoint.logsumexp(0).item<double>() + Math.Log(step * step);
            // A broad proposal N(0, 2² I) covers every prior's mass, so the estimate's error is small enough to see a wrong weight.
            Tensor broad = tensor(new double[] { 0, 0, Math.Log(4), Math.Log(4) }).view(1, 4);
            Tensor logWeights = ImportanceWeightedBound.LogWeights(model, x, broad, k, generator).squeeze(1);   // [k]
            estimate = ImportanceWeightedBound.FromLogWeights(logWeights).item<double>();
            Tensor ratio = logWeights.sub(logWeights.max()).exp();
            se = ratio.std().item<double>() / Math.Sqrt(k) / ratio.mean().item<double>();
        }
        return DerivationRow.Equal(Name, $"{model.Prior.Spec}: IWAE_k log p(x) (k = {k:N0}) = log ∫ p(x|z) p(z) dz", estimate, quadrature, 4 * se,
            "ImportanceWeightedBound.LogWeights (proposal N(0, 2²I)) with the model's prior against the decoder and PriorSpec's density on the grid; tolerance 4 delta-method standard errors");
    }

    // The ELBO's KL for one example: Elbo.Estimate with many draws (Monte Carlo for a learned prior, closed form for the standard one)
    // against Σ_grid q (log q − log p) step².
    static DerivationRow KlRow(VariationalAutoencoder model, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor x = rand(new long[] { 1, 1, 4, 4 }, ScalarType.Float64, generator: generator);
        Tensor parameters;
        using (no_grad()) parameters = model.Encode(x);
        var (grid, step) = Grid();
        double quadrature;
        using (no_grad())
        {
            Tensor logQ = model.Posterior.LogDensity(grid.unsqueeze(1), parameters).squeeze(1);
            quadrature = logQ.exp().mul(logQ.sub(model.Prior.LogDensity(grid))).sum().item<double>() * step * step;
        }
        const int samples = 100_000;
        double estimate, se;
        using (no_grad())
        {
            using ElboEstimate terms = Elbo.Estimate(model, x, parameters, generator, samples);
            estimate = terms.KlNats.item<double>();
            var (z, logQ) = model.SamplePosterior(parameters, samples, generator);
            se = logQ.sub(model.Prior.LogDensity(z)).std().item<double>() / Math.Sqrt(samples);
        }
        double tolerance = model.Prior.IsStandard ? 1e-6 : 4 * se;
        return DerivationRow.Equal(Name, $"{model.Prior.Spec}: the ELBO's KL(q ‖ p) = ∫ q (log q − log p) dz", estimate, quadrature, tolerance,
            model.Prior.IsStandard
                ? "Elbo.Estimate's closed-form KL against the grid of q's and p's log-densities"
                : $"Elbo.Estimate's Monte Carlo KL from {samples:N0} draws against the grid of q's and p's log-densities; tolerance 4 standard errors");
    }
}
