using TorchSharp;
using TorchSharp.Modules;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// The best q in the encoder's family for each example, fitted alone: q*(z|x) = N(μ*, diag σ*²) maximising the ELBO of that
/// one x (Cremer, Li and Duvenaud 2018), by Adam on μ and log σ² started from the encoder's output, with the library's own
/// <see cref="Elbo.Estimate(VariationalAutoencoder, Tensor, Tensor, Tensor, Generator?, int)"/> as the objective. L[q*] − L[q]
/// is the amortisation gap (what sharing one encoder across the data costs); log p(x) − L[q*] the approximation gap (what the
/// diagonal-Gaussian family costs). Batched over examples: each has its own parameters and Adam moments.
/// </summary>
public static class LocalPosterior
{
    /// <summary>Fits q* for the examples <paramref name="x"/> [N, ...] as given; returns μ*, log σ² * ([N, d] each) and the steps taken.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Settings out of range (<see cref="LocalPosteriorOptions.Validate"/>).</exception>
    public static (Tensor Mean, Tensor LogVariance, int Steps) Fit(VariationalAutoencoder model, Tensor x, LocalPosteriorOptions? options = null, Generator? generator = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new LocalPosteriorOptions();
        options.Validate();
        model.eval();
        Tensor initialMean, initialLogVariance;
        using (no_grad())
        {
            var (m, v) = model.Encode(x);
            initialMean = m.detach();
            initialLogVariance = v.detach();
        }
        return Fit(model, x, initialMean, initialLogVariance, options, generator, cancellation);
    }

    /// <summary>Fits q* starting from a given q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)) ([N, d] each).</summary>
    public static (Tensor Mean, Tensor LogVariance, int Steps) Fit(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, LocalPosteriorOptions options, Generator? generator = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        model.eval();
        using var frozen = new FrozenParameters(model);
        var mu = new Parameter(mean.detach().clone(), requires_grad: true);
        var logSigma2 = new Parameter(logVariance.detach().clone(), requires_grad: true);
        var adam = new FlatAdam([mu, logSigma2], options.LearningRate);
        int drops = 0;
        double windowSum = 0, previousWindow = double.NegativeInfinity;
        int step = 0;
        // Adam with a fixed rate ends jittering around the optimum; the iterates averaged over the last window (Polyak) sit closer.
        Tensor meanSum = zeros_like(mu).DetachFromDisposeScope(), logVarianceSum = zeros_like(logSigma2).DetachFromDisposeScope();
        int inWindow = 0;
        while (step < options.MaxSteps)
        {
            cancellation.ThrowIfCancellationRequested();
            if (adam.LearningRate > options.LearningRate * Math.Pow(0.1, drops) * 1.5)
            {
                // Made outside the step's dispose scope: the optimiser's buffers live across steps.
                adam.Dispose();
                adam = new FlatAdam([mu, logSigma2], options.LearningRate * Math.Pow(0.1, drops));
            }
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            using ElboEstimate terms = Elbo.Estimate(model, x, mu, logSigma2, generator, options.SamplesPerStep);
            Tensor elbo = terms.ElboNats();
            // Examples are independent (each has its own μ, log σ² and Adam moments), so the sum's gradient is each one's own.
            elbo.sum().neg().backward();
            adam.Step();
            step++;
            windowSum += elbo.mean().to_type(ScalarType.Float64).item<double>();
            using (no_grad())
            {
                meanSum.add_(mu);
                logVarianceSum.add_(logSigma2);
            }
            inWindow++;
            if (step % options.Window == 0)
            {
                double windowMean = windowSum / options.Window;
                windowSum = 0;
                if (windowMean - previousWindow < options.Tolerance)
                {
                    // A plateau: stop, or go on at a tenth of the rate (fresh moments) to settle closer to the optimum.
                    if (drops == options.LearningRateDrops) break;
                    drops++;
                    windowMean = double.NegativeInfinity;
                }
                previousWindow = windowMean;
                meanSum.zero_();
                logVarianceSum.zero_();
                inWindow = 0;
            }
        }
        adam.Dispose();
        Tensor fittedMean, fittedLogVariance;
        using (no_grad())
        {
            fittedMean = inWindow == 0 ? mu.detach().clone() : meanSum.div(inWindow);
            fittedLogVariance = inWindow == 0 ? logSigma2.detach().clone() : logVarianceSum.div(inWindow);
        }
        meanSum.Dispose();
        logVarianceSum.Dispose();
        mu.Dispose();
        logSigma2.Dispose();
        return (fittedMean, fittedLogVariance, step);
    }

    /// <summary>
    /// The ELBO of q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)) per example with <paramref name="samples"/>
    /// draws (Monte Carlo E_q[log p(x|z)], analytic KL), and the variance of each example's estimate: ([N], [N]) float64.
    /// The same estimator scores the encoder's q and the fitted q*, so their difference is not an artefact of two methods.
    /// </summary>
    public static (Tensor Elbo, Tensor Variance) Score(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, int samples, Generator? generator = null, int rowsPerPass = 8192)
    {
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least two samples are needed for a standard error.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        Tensor flat = x.view(n, -1);
        Tensor sum = zeros(new long[] { n }, ScalarType.Float64, x.device), sumSquares = zeros(new long[] { n }, ScalarType.Float64, x.device);
        int perPass = (int)Math.Max(1, Math.Min(samples, rowsPerPass / Math.Max(n, 1)));
        for (int done = 0; done < samples; done += perPass)
        {
            using var inner = NewDisposeScope();
            int size = Math.Min(perPass, samples - done);
            // `size` copies of the batch, one z each: every sample's ELBO separately, for the variance.
            using ElboEstimate terms = Elbo.Estimate(model, flat.repeat(size, 1), mean.repeat(size, 1), logVariance.repeat(size, 1), generator, 1);
            Tensor values = terms.ElboNats().to_type(ScalarType.Float64).view(size, n);
            sum.add_(values.sum([0]));
            sumSquares.add_(values.square().sum([0]));
        }
        Tensor average = sum.div(samples);
        Tensor variance = sumSquares.div(samples).sub(average.square()).clamp_min(0).mul(samples / (samples - 1.0)).div(samples);
        return (average.MoveToOuterDisposeScope(), variance.MoveToOuterDisposeScope());
    }
}
