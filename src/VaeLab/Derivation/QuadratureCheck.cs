using System.Globalization;
using VaeLab.Data.Synthetic;
using VaeLab.Models;
using VaeLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 2, exact up to quadrature: for a trained nonlinear VAE with a 1- or 2-dimensional latent,
/// log p(x) = log ∫ p(x|z) p(z) dz on a grid refined until it stops changing, the posterior p(z|x) of Bayes'
/// rule integrates to 1, KL(q ‖ p(z|x)) on a grid around q, the ELBO's expectation by Gauss–Hermite; then
/// log p(x) = ELBO + KL(q ‖ p(z|x)) example by example.
/// </summary>
public static class QuadratureCheck
{
    /// <summary>The check's name in the report.</summary>
    public const string Name = "2 quadrature (trained 2-D latent VAE)";

    /// <summary>Half-width of the global grid in each latent dimension (the prior's mass beyond 7 is below 1e-11).</summary>
    public const double GridHalfWidth = 7;

    /// <summary>Trains a small VAE with a 2-D latent and a learned-σ Gaussian decoder on the pinwheel, deterministically.</summary>
    public static VariationalAutoencoder TrainPinwheelVae(long seed = 2, int epochs = 30)
    {
        using var data = Pinwheel.Generate(2000, seed);
        var config = new VaeConfig([2], LatentDimensions: 2, HiddenSizes: [64], Likelihood: LikelihoodKind.GaussianShared, Sigma: 0.3);
        manual_seed(seed);
        VariationalAutoencoder model = config.Build();
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: epochs, BatchSize: 100, LearningRate: 3e-3, Seed: seed), config);
        trainer.Fit(data);
        return model;
    }

    /// <summary>Runs the check on <paramref name="model"/> (latent size 1 or 2) and <paramref name="x"/> [N, ...], or on a freshly trained pinwheel VAE.</summary>
    /// <exception cref="ArgumentException">A latent size other than 1 or 2.</exception>
    /// <remarks>The model is evaluated in float64 and returned to its dtype afterwards.</remarks>
    public static IReadOnlyList<DerivationRow> Run(DerivationFormulas formulas, VariationalAutoencoder? model = null, Tensor? x = null, long seed = 2, double tolerance = 1e-3)
    {
        using var scope = NewDisposeScope();
        if (model is null)
        {
            model = TrainPinwheelVae(seed);
            using var test = Pinwheel.Generate(16, seed + 100);
            x = test.Examples.clone();
        }
        if (x is null) throw new ArgumentNullException(nameof(x), "Give the examples to check with the model.");
        int d = (int)model.LatentDimensions;
        if (d is < 1 or > 2) throw new ArgumentException($"Quadrature needs a 1- or 2-dimensional latent; this model has {d}.", nameof(model));
        // Quadrature in float64; the model goes back to its own dtype afterwards (float32 → float64 → float32 is exact).
        ScalarType original = model.parameters().First().dtype;
        model.to(ScalarType.Float64);
        model.eval();
        try
        {
            return Check(formulas, model, x, tolerance);
        }
        finally
        {
            model.to(original);
        }
    }

    static IReadOnlyList<DerivationRow> Check(DerivationFormulas formulas, VariationalAutoencoder model, Tensor x, double tolerance)
    {
        using var noGrad = no_grad();
        int d = (int)model.LatentDimensions;
        Tensor flat = x.to_type(ScalarType.Float64).view(x.shape[0], -1);
        int examples = (int)flat.shape[0];
        var rows = new List<DerivationRow>();

        // log p(x) on grids of n^d midpoints over [−L, L]^d, doubling n until it changes by less than tolerance/10.
        int n = d == 1 ? 256 : 64, maxN = d == 1 ? 65_536 : 1024;
        Tensor logMarginal = LogMarginalOnGrid(model, flat, n);
        double change = double.PositiveInfinity;
        while (change > tolerance / 10 && n < maxN)
        {
            n *= 2;
            Tensor refined = LogMarginalOnGrid(model, flat, n);
            change = (refined - logMarginal).abs().max().item<double>();
            logMarginal = refined;
        }
        rows.Add(new DerivationRow(Name, $"log p(x) = log Σ p(x|z)p(z)ΔA converged (change at the last refinement, {n} points per dimension)",
            logMarginal.mean().item<double>(), logMarginal.mean().item<double>(), change, tolerance / 10,
            "midpoint rule over [−7, 7]^d with stable log-sum-exp; grid doubled until the change is below tolerance/10", change <= tolerance / 10));

        // Bayes' rule: p(z|x) = p(x|z)p(z)/p(x) integrates to 1, on a grid twice as fine as the one p(x) came from.
        Tensor mass = LogMarginalOnGrid(model, flat, Math.Min(2 * n, maxN * 2)).sub(logMarginal).exp();
        double worstMass = (mass - 1).abs().max().item<double>();
        rows.Add(new DerivationRow(Name, "Bayes' rule: ∫ p(x|z)p(z)/p(x) dz = 1 (worst example)", mass.mean().item<double>(), 1, worstMass, tolerance,
            "posterior from the converged p(x), integrated on a grid twice as fine", worstMass <= tolerance));

        // ELBO by Gauss–Hermite and the formulas' KL; KL(q ‖ p(z|x)) on a fine grid around each q.
        var (mean, logVariance) = model.Encode(flat);
        var elbo = new double[examples];
        var klPosterior = new double[examples];
        for (int i = 0; i < examples; i++)
        {
            using var inner = NewDisposeScope();
            var (points, weights) = GaussHermite.ForDiagonalGaussian(mean[i], logVariance[i], d == 1 ? 200 : 60);
            double expected = LogLikelihood(model, flat[i], points).mul(weights).sum().item<double>();
            elbo[i] = expected - formulas.Kl(mean[i].unsqueeze(0), logVariance[i].unsqueeze(0)).item<double>();
            klPosterior[i] = KlToPosteriorOnGrid(model, flat[i], mean[i], logVariance[i], logMarginal[i].item<double>(), d);
        }
        double[] logPx = logMarginal.data<double>().ToArray();
        int worst = Enumerable.Range(0, examples).MaxBy(i => Math.Abs(logPx[i] - elbo[i] - klPosterior[i]));
        double worstGap = Math.Abs(logPx[worst] - elbo[worst] - klPosterior[worst]);
        rows.Add(new DerivationRow(Name, $"log p(x) = ELBO + KL(q ‖ p(z|x)) for every one of {examples} examples (worst shown)",
            logPx[worst], elbo[worst] + klPosterior[worst], worstGap, tolerance,
            "grid log p(x); ELBO with Gauss–Hermite E_q[log p(x|z)] and analytic KL(q‖p); KL(q‖p(z|x)) by midpoints over μ ± 8σ", worstGap <= tolerance));
        rows.Add(DerivationRow.AtMost(Name, "KL(q ‖ p(z|x)) ≥ 0 (smallest example)", 0, klPosterior.Min(), tolerance,
            string.Create(CultureInfo.InvariantCulture, $"grid quadrature; mean {klPosterior.Average():F4} nats")));
        return rows;
    }

    /// <summary>
    /// The true posterior p(z|x) of a 2-D latent model on an n×n grid over [−L, L]², with q(z|x)'s density on the
    /// same grid, for the contour figure. Densities are normalised on the grid; the model is evaluated in float64.
    /// </summary>
    public static PosteriorGrid PosteriorOnGrid(VariationalAutoencoder model, Tensor x, int n = 120, double halfWidth = 3.5)
    {
        if (model.LatentDimensions != 2) throw new ArgumentException("The posterior grid is drawn for 2-D latents.", nameof(model));
        ScalarType original = model.parameters().First().dtype;
        model.to(ScalarType.Float64);
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            Tensor flat = x.to_type(ScalarType.Float64).view(1, -1);
            Tensor grid = Grid(2, n, -halfWidth, halfWidth);
            Tensor logJoint = LogLikelihood(model, flat[0], grid).add(LogPrior(grid));
            Tensor posterior = logJoint.sub(logJoint.logsumexp(0)).exp().view(n, n);
            var (mean, logVariance) = model.Encode(flat);
            Tensor standardised = grid.sub(mean).div(logVariance.mul(0.5).exp());
            Tensor logQ = standardised.square().add(logVariance).sum(1).mul(-0.5);
            Tensor q = logQ.sub(logQ.logsumexp(0)).exp().view(n, n);
            double[] axis = Enumerable.Range(0, n).Select(i => -halfWidth + (i + 0.5) * 2 * halfWidth / n).ToArray();
            // Row i of a contour's z is y = axis[i]; the grid's first coordinate is z₁ (x axis): transpose.
            return new PosteriorGrid(axis, ToRows(posterior.t()), ToRows(q.t()), mean[0].data<double>().ToArray(), logVariance[0].mul(0.5).exp().data<double>().ToArray());
        }
        finally
        {
            model.to(original);
        }
    }

    static double[][] ToRows(Tensor matrix)
    {
        double[] values = matrix.contiguous().data<double>().ToArray();
        int columns = (int)matrix.shape[1];
        return Enumerable.Range(0, (int)matrix.shape[0]).Select(r => values[(r * columns)..((r + 1) * columns)]).ToArray();
    }

    static Tensor LogLikelihood(VariationalAutoencoder model, Tensor x, Tensor z) =>
        model.Likelihood.LogProb(x.unsqueeze(0).expand(z.shape[0], -1), model.Decode(z));

    static Tensor LogPrior(Tensor z) => z.square().sum(1).add(z.shape[1] * Math.Log(2 * Math.PI)).mul(-0.5);

    static Tensor Grid(int d, int n, double low, double high)
    {
        double h = (high - low) / n;
        Tensor axis = arange(n, dtype: ScalarType.Float64).add(0.5).mul(h).add(low);
        return d == 1 ? axis.unsqueeze(1) : stack(meshgrid([axis, axis], indexing: "ij").Select(g => g.reshape(-1)).ToArray(), 1);
    }

    // log p(x) for every example: log Σ_grid exp(log p(x|z) + log p(z)) + log ΔA, decoding the grid in chunks.
    static Tensor LogMarginalOnGrid(VariationalAutoencoder model, Tensor flat, int n)
    {
        using var scope = NewDisposeScope();
        int d = (int)model.LatentDimensions;
        double logCell = d * Math.Log(2 * GridHalfWidth / n);
        Tensor grid = Grid(d, n, -GridHalfWidth, GridHalfWidth);
        Tensor running = full(new long[] { flat.shape[0] }, double.NegativeInfinity, ScalarType.Float64);
        const int chunk = 65_536;
        for (long start = 0; start < grid.shape[0]; start += chunk)
        {
            using var inner = NewDisposeScope();
            Tensor z = grid.slice(0, start, Math.Min(start + chunk, grid.shape[0]), 1);
            Tensor output = model.Decode(z);
            Tensor logPrior = LogPrior(z);
            // [N, G]: every example against every grid point.
            Tensor logJoint = stack(Enumerable.Range(0, (int)flat.shape[0])
                .Select(i => model.Likelihood.LogProb(flat[i].unsqueeze(0).expand(z.shape[0], -1), output).add(logPrior)).ToArray());
            running = stack([running, logJoint.logsumexp(1)]).logsumexp(0).MoveToOuterDisposeScope();
        }
        return running.add(logCell).MoveToOuterDisposeScope();
    }

    // KL(q ‖ p(z|x)) = ∫ q (log q − log p(x|z) − log p(z)) dz + log p(x), by midpoints over μ ± 8σ per dimension.
    static double KlToPosteriorOnGrid(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, double logMarginal, int d)
    {
        using var scope = NewDisposeScope();
        int n = d == 1 ? 4000 : 400;
        Tensor sigma = logVariance.mul(0.5).exp();
        Tensor unit = Grid(d, n, -8, 8);                       // standardised coordinates
        Tensor z = unit.mul(sigma).add(mean);
        double logCell = d * Math.Log(16.0 / n) + logVariance.mul(0.5).sum().item<double>();
        Tensor logQ = unit.square().add(logVariance).add(Math.Log(2 * Math.PI)).sum(1).mul(-0.5);
        Tensor integrand = logQ - LogLikelihood(model, x, z) - LogPrior(z);
        Tensor weights = logQ.add(logCell).exp();
        return weights.mul(integrand).sum().item<double>() / weights.sum().item<double>() + logMarginal;
    }
}

/// <summary>p(z|x) and q(z|x) on a square grid (rows indexed by z₂, columns by z₁), for a contour figure.</summary>
/// <param name="Axis">Grid coordinates, the same for z₁ and z₂.</param>
/// <param name="Posterior">True posterior mass per cell, [z₂][z₁].</param>
/// <param name="Approximation">q(z|x) mass per cell, [z₂][z₁].</param>
/// <param name="QMean">q's mean.</param>
/// <param name="QStandardDeviation">q's standard deviations.</param>
public sealed record PosteriorGrid(double[] Axis, double[][] Posterior, double[][] Approximation, double[] QMean, double[] QStandardDeviation);
