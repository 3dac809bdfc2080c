using System.Globalization;
using VaeLab.Data.Synthetic;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;
using TorchSharp;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Derivation;

/// <summary>
/// Check 2, exact up to quadrature: for a trained nonlinear VAE with a 1- or 2-dimensional latent, each side of
/// log p(x) = ELBO + KL(q ‖ p(z|x)) by its own method: log p(x) = log ∫ p(x|z) p(z) dz on a global grid refined until
/// it stops changing; the ELBO by the library's <see cref="Elbo.Estimate(VariationalAutoencoder, Tensor, Generator?, int)"/> (cross-checked by Gauss–Hermite);
/// KL(q ‖ p(z|x)) on a local grid with the posterior normalised there. Nothing on one side is taken from another.
/// </summary>
public sealed class QuadratureCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 2;

    string IDerivationCheck.Name => Name;

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context)
    {
        var (model, test, failure) = context.Pinwheel();
        if (model is null) return [context.TrainingFailureRow(Name)];
        var rows = Run(context.Components, model, test);
        context.Posterior = PosteriorOnGrid(model, test[0]);
        return rows;
    }

    /// <summary>The check's name in the report.</summary>
    public const string Name = "2 quadrature (trained 2-D latent VAE)";

    /// <summary>Half-width of the global grid in each latent dimension (the prior's mass beyond 7 is below 1e-11).</summary>
    public const double GridHalfWidth = 7;

    /// <summary>
    /// Trains a small VAE with a 2-D latent and a learned-σ Gaussian decoder on the pinwheel, deterministically, as one model
    /// (not split over threads: the checks and their planted-bug tests were calibrated on this model, whatever the machine's cores).
    /// <paramref name="posterior"/> trains it with another posterior family (check 10 uses a planar flow).
    /// </summary>
    public static VariationalAutoencoder TrainPinwheelVae(long seed = 2, int epochs = 30, VaeLab.Models.Posteriors.PosteriorSpec? posterior = null)
    {
        using var data = Pinwheel.Generate(2000, seed);
        var config = new VaeConfig([2], LatentDimensions: 2, HiddenSizes: [64], Likelihood: LikelihoodKind.GaussianShared, Sigma: 0.3, Posterior: posterior);
        manual_seed(seed);
        VariationalAutoencoder model = config.Build();
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: epochs, BatchSize: 100, LearningRate: 3e-3, Seed: seed, Parallelism: TrainingParallelism.OneModel));
        trainer.Fit(data);
        return model;
    }

    /// <summary>Runs the check on <paramref name="model"/> (latent size 1 or 2) and <paramref name="x"/> [N, ...], or on a freshly trained pinwheel VAE.</summary>
    /// <param name="components">The components under test (the library's by default): the model passes through it.</param>
    /// <param name="model">A trained VAE with a 1- or 2-dimensional latent (null: train the pinwheel VAE).</param>
    /// <param name="x">The examples to check.</param>
    /// <param name="seed">Seed of the pinwheel VAE (when none is given) and of the ELBO's Monte Carlo draws.</param>
    /// <param name="tolerance">The target accuracy of the grids, nats: log p(x) is refined until it changes by less than a tenth of it.</param>
    /// <param name="monteCarloSamples">z draws per example for <see cref="Elbo.Estimate(VariationalAutoencoder, Tensor, Generator?, int)"/>.</param>
    /// <exception cref="ArgumentException">A latent size other than 1 or 2.</exception>
    /// <remarks>The model is evaluated in float64 and returned to its dtype afterwards.</remarks>
    public static IReadOnlyList<DerivationRow> Run(CheckedComponents? components = null, VariationalAutoencoder? model = null, Tensor? x = null, long seed = 2, double tolerance = 1e-3, int monteCarloSamples = 200_000)
    {
        components ??= CheckedComponents.Library;
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
            return Check(components.Apply(model), x, seed, tolerance, monteCarloSamples);
        }
        finally
        {
            model.to(original);
        }
    }

    // Three sides, three methods: log p(x) on a global grid; the ELBO by the library's Monte Carlo estimate (and, as a
    // cross-check, by Gauss–Hermite); KL(q ‖ p(z|x)) on a local grid around q and the posterior, with the posterior
    // normalised on that grid (not by the global p(x)). Tolerances add each method's own error.
    static IReadOnlyList<DerivationRow> Check(VariationalAutoencoder model, Tensor x, long seed, double tolerance, int monteCarloSamples)
    {
        using var noGrad = no_grad();
        int d = (int)model.LatentDimensions;
        Tensor flat = x.to_type(ScalarType.Float64).view(x.shape[0], -1);
        int examples = (int)flat.shape[0];
        var rows = new List<DerivationRow>();

        // log p(x) on grids of n^d midpoints over [−L, L]^d, doubling n until it changes by less than tolerance/10.
        int n = d == 1 ? 256 : 64, maxN = d == 1 ? 65_536 : 1024;
        Tensor logMarginal = LogMarginalOnGrid(model, flat, n);
        Tensor previous = logMarginal;
        Tensor marginalChange = full(new long[] { examples }, double.PositiveInfinity, ScalarType.Float64);
        while (marginalChange.max().item<double>() > tolerance / 10 && n < maxN)
        {
            n *= 2;
            previous = logMarginal;
            logMarginal = LogMarginalOnGrid(model, flat, n);
            marginalChange = (logMarginal - previous).abs();
        }
        double worstChange = marginalChange.max().item<double>();
        rows.Add(new DerivationRow(Name, $"log p(x) = log ∫ p(x|z)p(z) dz on a grid: {n} against {n / 2} points per dimension (worst example)",
            logMarginal.mean().item<double>(), previous.mean().item<double>(), worstChange, tolerance / 10,
            "midpoint rule over [−7, 7]^d with the library's decoder and likelihood, Normal.log_prob prior, stable log-sum-exp; grid doubled until the change is below tolerance/10",
            worstChange <= tolerance / 10));

        // The ELBO by the library's estimator: x repeated, one z per row, per-example means and standard errors.
        var (mean, logVariance) = model.EncodeDiagonal(flat);
        var (elbo, elboSe) = ElboByMonteCarlo(model, flat, monteCarloSamples, seed);
        var (posteriorMean, posteriorSd) = PosteriorMomentsOnGrid(model, flat, d == 1 ? 4096 : 256);
        var elboQuadrature = new double[examples];
        var quadratureChange = new double[examples];
        var kl = new double[examples];
        var klChange = new double[examples];
        var logNormaliser = new double[examples];
        var normaliserChange = new double[examples];
        Tensor klToPrior = ReferenceGaussian.KlToStandardNormal(mean, logVariance.exp());
        for (int i = 0; i < examples; i++)
        {
            using var inner = NewDisposeScope();
            int nodes = d == 1 ? 200 : 60;
            double coarse = GaussHermiteReconstruction(model, flat[i], mean[i], logVariance[i], nodes);
            double fine = GaussHermiteReconstruction(model, flat[i], mean[i], logVariance[i], 2 * nodes);
            elboQuadrature[i] = fine - klToPrior[i].item<double>();
            quadratureChange[i] = Math.Abs(fine - coarse);
            int local = d == 1 ? 4000 : 300;
            // Refined and widened at once (n → 2n points, ±8 → ±10 standard deviations): the change bounds both errors.
            var (klCoarse, zCoarse) = KlOnLocalGrid(model, flat[i], mean[i], logVariance[i], posteriorMean[i], posteriorSd[i], local, 8);
            (kl[i], logNormaliser[i]) = KlOnLocalGrid(model, flat[i], mean[i], logVariance[i], posteriorMean[i], posteriorSd[i], 2 * local, 10);
            klChange[i] = Math.Abs(kl[i] - klCoarse);
            normaliserChange[i] = Math.Abs(logNormaliser[i] - zCoarse);
        }
        // A grid's error bar is its largest refinement change over the examples: on a ReLU network the integrand has kinks,
        // and one example's change can be small by chance while its error is not.
        double[] logPx = logMarginal.data<double>().ToArray();
        double pxError = worstChange, quadratureError = quadratureChange.Max(), klError = klChange.Max(), normaliserError = normaliserChange.Max();

        rows.Add(WorstRow("Elbo.Estimate = Gauss–Hermite E_q[log p(x|z)] − KL(q ‖ p(z))", elbo, elboQuadrature,
            i => 4 * elboSe[i] + quadratureError + 1e-9,
            $"{monteCarloSamples:N0} draws per example against a tensor Gauss–Hermite rule (n and 2n nodes per dimension) minus the dense-matrix KL; tolerance 4 standard errors + the rule's largest change"));
        rows.Add(WorstRow("two normalisers of p(x, z) agree: log p(x) on the global grid = log Z on the local KL grid", logPx, logNormaliser,
            i => pxError + normaliserError + 1e-9, "tolerance: the sum of both grids' largest refinement changes"));
        double[] right = Enumerable.Range(0, examples).Select(i => elbo[i] + kl[i]).ToArray();
        rows.Add(WorstRow($"log p(x) = ELBO + KL(q ‖ p(z|x)) for every one of {examples} examples", logPx, right,
            i => 4 * elboSe[i] + pxError + klError + 1e-9,
            "left: global grid; ELBO: Elbo.Estimate; KL: local grid over q's μ ± 10σ and the posterior's mean ± 10 sd (against 8 and half the points), posterior normalised on that grid; tolerance 4 standard errors + both grids' largest refinement changes"));
        rows.Add(DerivationRow.AtMost(Name, "KL(q ‖ p(z|x)) ≥ 0 (smallest example)", 0, kl.Min(), 1e-9,
            string.Create(CultureInfo.InvariantCulture, $"local grid quadrature; mean {kl.Average():F4} nats")));
        return rows;
    }

    // The row of the example whose difference is largest relative to its own tolerance.
    static DerivationRow WorstRow(string step, double[] left, double[] right, Func<int, double> tolerance, string method)
    {
        int worst = Enumerable.Range(0, left.Length).MaxBy(i => Math.Abs(left[i] - right[i]) / tolerance(i));
        double difference = Math.Abs(left[worst] - right[worst]);
        return new DerivationRow(Name, step + " (worst example relative to its tolerance)", left[worst], right[worst], difference, tolerance(worst), method, difference <= tolerance(worst));
    }

    // Elbo.Estimate on each example repeated: the mean and standard error over `samples` single-z estimates, in chunks.
    static (double[] Mean, double[] StandardError) ElboByMonteCarlo(VariationalAutoencoder model, Tensor flat, int samples, long seed)
    {
        using var generator = new Generator((ulong)seed);
        long n = flat.shape[0];
        var sum = new double[n];
        var sumSquares = new double[n];
        const int chunk = 10_000;
        for (int done = 0; done < samples; done += chunk)
        {
            using var scope = NewDisposeScope();
            int size = Math.Min(chunk, samples - done);
            using ElboEstimate terms = Elbo.Estimate(model, flat.repeat(size, 1), generator);
            Tensor values = terms.ElboNats().view(size, n);
            double[] s = values.sum([0]).data<double>().ToArray(), q = values.square().sum([0]).data<double>().ToArray();
            for (int i = 0; i < n; i++) { sum[i] += s[i]; sumSquares[i] += q[i]; }
        }
        double[] mean = sum.Select(s => s / samples).ToArray();
        double[] se = Enumerable.Range(0, (int)n).Select(i => Math.Sqrt(Math.Max(sumSquares[i] / samples - mean[i] * mean[i], 0) / (samples - 1))).ToArray();
        return (mean, se);
    }

    static double GaussHermiteReconstruction(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, int nodes)
    {
        using var scope = NewDisposeScope();
        var (points, weights) = GaussHermite.ForDiagonalGaussian(mean, logVariance, nodes);
        return LogLikelihood(model, x, points).mul(weights).sum().item<double>();
    }

    // Posterior means and standard deviations per example from p(x|z)p(z) on the global grid: where the local grid must reach.
    internal static (Tensor Mean, Tensor StandardDeviation) PosteriorMomentsOnGrid(VariationalAutoencoder model, Tensor flat, int n)
    {
        int d = (int)model.LatentDimensions;
        Tensor grid = Grid(d, n, -GridHalfWidth, GridHalfWidth);
        var means = new List<Tensor>();
        var sds = new List<Tensor>();
        for (int i = 0; i < flat.shape[0]; i++)
        {
            using var scope = NewDisposeScope();
            Tensor weights = LogLikelihood(model, flat[i], grid).add(ReferenceGaussian.LogStandardNormal(grid)).softmax(0).unsqueeze(1);
            Tensor m = grid.mul(weights).sum([0]);
            Tensor sd = grid.sub(m).square().mul(weights).sum([0]).sqrt();
            means.Add(m.MoveToOuterDisposeScope());
            sds.Add(sd.MoveToOuterDisposeScope());
        }
        return (stack(means), stack(sds));
    }

    // KL(q ‖ p(z|x)) = Σ q ΔA (log q − log p(x, z)) + log Z with Z = Σ p(x, z) ΔA on a grid covering q's μ ± reach·σ and the
    // posterior's mean ± reach·sd: the posterior gets its own normaliser; q's density comes from Normal.log_prob.
    static (double Kl, double LogNormaliser) KlOnLocalGrid(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, Tensor posteriorMean, Tensor posteriorSd, int n, double reach)
    {
        using var scope = NewDisposeScope();
        int d = (int)mean.shape[0];
        Tensor sigma = logVariance.mul(0.5).exp();
        Tensor low = minimum(mean - sigma * reach, posteriorMean - posteriorSd * reach), high = maximum(mean + sigma * reach, posteriorMean + posteriorSd * reach);
        double[] lo = low.data<double>().ToArray(), hi = high.data<double>().ToArray();
        Tensor[] axes = Enumerable.Range(0, d).Select(j => arange(n, dtype: ScalarType.Float64).add(0.5).mul((hi[j] - lo[j]) / n).add(lo[j])).ToArray();
        Tensor grid = d == 1 ? axes[0].unsqueeze(1) : stack(meshgrid(axes, indexing: "ij").Select(g => g.reshape(-1)).ToArray(), 1);
        double logCell = Enumerable.Range(0, d).Sum(j => Math.Log((hi[j] - lo[j]) / n));
        Tensor logJoint = LogLikelihood(model, x, grid).add(ReferenceGaussian.LogStandardNormal(grid));
        double logNormaliser = logJoint.logsumexp(0).item<double>() + logCell;
        Tensor logQ = ReferenceGaussian.LogDensity(grid, mean, sigma);
        Tensor qMass = logQ.add(logCell).exp();
        double kl = qMass.mul(logQ - logJoint).sum().item<double>() / qMass.sum().item<double>() + logNormaliser;
        return (kl, logNormaliser);
    }

    /// <summary>
    /// The true posterior p(z|x) of a 2-D latent model on an n×n grid over [−L, L]², with q(z|x)'s density on the
    /// same grid (any posterior family), for the contour figure. Densities are normalised on the grid; the model is evaluated in float64.
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
            Tensor logJoint = LogLikelihood(model, flat[0], grid).add(DiagonalGaussian.LogStandardNormal(grid));
            Tensor posterior = logJoint.sub(logJoint.logsumexp(0)).exp().view(n, n);
            Tensor parameters = model.Encode(flat);
            // Any family: q's density by its own LogDensity (an inversion for flows), at every grid point.
            Tensor logQ = model.Posterior.LogDensity(grid.unsqueeze(1), parameters).squeeze(1);
            Tensor q = logQ.sub(logQ.logsumexp(0)).exp().view(n, n);
            double[] axis = Enumerable.Range(0, n).Select(i => -halfWidth + (i + 0.5) * 2 * halfWidth / n).ToArray();
            Tensor baseSd = DiagonalGaussian.StandardDeviation(model.Posterior.LogVariance(parameters)[0]);
            // Row i of a contour's z is y = axis[i]; the grid's first coordinate is z₁ (x axis): transpose.
            return new PosteriorGrid(axis, ToRows(posterior.t()), ToRows(q.t()), model.Posterior.Location(parameters)[0].data<double>().ToArray(),
                baseSd.data<double>().ToArray(), model.Posterior.Spec.ToString());
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

    internal static Tensor LogLikelihood(VariationalAutoencoder model, Tensor x, Tensor z) =>
        model.Likelihood.LogProb(x.unsqueeze(0).expand(z.shape[0], -1), model.Decode(z));

    static Tensor Grid(int d, int n, double low, double high)
    {
        double h = (high - low) / n;
        Tensor axis = arange(n, dtype: ScalarType.Float64).add(0.5).mul(h).add(low);
        return d == 1 ? axis.unsqueeze(1) : stack(meshgrid([axis, axis], indexing: "ij").Select(g => g.reshape(-1)).ToArray(), 1);
    }

    // log p(x) for every example: log Σ_grid exp(log p(x|z) + log p(z)) + log ΔA, decoding the grid in chunks.
    internal static Tensor LogMarginalOnGrid(VariationalAutoencoder model, Tensor flat, int n)
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
            Tensor logPrior = ReferenceGaussian.LogStandardNormal(z);
            // [N, G]: every example against every grid point.
            Tensor logJoint = stack(Enumerable.Range(0, (int)flat.shape[0])
                .Select(i => model.Likelihood.LogProb(flat[i].unsqueeze(0).expand(z.shape[0], -1), output).add(logPrior)).ToArray());
            running = stack([running, logJoint.logsumexp(1)]).logsumexp(0).MoveToOuterDisposeScope();
        }
        return running.add(logCell).MoveToOuterDisposeScope();
    }
}

/// <summary>p(z|x) and q(z|x) on a square grid (rows indexed by z₂, columns by z₁), for a contour figure.</summary>
/// <param name="Axis">Grid coordinates, the same for z₁ and z₂.</param>
/// <param name="Posterior">True posterior mass per cell, [z₂][z₁].</param>
/// <param name="Approximation">q(z|x) mass per cell, [z₂][z₁].</param>
/// <param name="QMean">q's mean (for a flow, the point its base mean maps to).</param>
/// <param name="QStandardDeviation">q's standard deviations (for a full covariance or a flow, the base Gaussian's).</param>
/// <param name="Family">q's posterior family ("Diagonal", "FullCovariance", "Planar:K", "Iaf:K").</param>
public sealed record PosteriorGrid(double[] Axis, double[][] Posterior, double[][] Approximation, double[] QMean, double[] QStandardDeviation, string Family = "Diagonal");
