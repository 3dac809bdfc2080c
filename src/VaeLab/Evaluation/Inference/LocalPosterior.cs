using TorchSharp;
using TorchSharp.Modules;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
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
        CheckShapes(model, x, mean, logVariance);
        model.eval();
        using var frozen = new FrozenParameters(model);
        using var enable = enable_grad();   // callable from inside no_grad(): the fit differentiates with respect to μ and log σ²
        var mu = new Parameter(mean.detach().clone(), requires_grad: true);
        var logSigma2 = new Parameter(logVariance.detach().clone(), requires_grad: true);
        var adam = new FlatAdam([mu, logSigma2], options.LearningRate);
        int drops = 0, flatWindows = 0, step = 0;
        double windowSum = 0, previousWindow = double.NegativeInfinity;
        // Adam with a fixed rate ends jittering around the optimum; the iterates averaged over a window (Polyak) sit closer.
        // `last*` keep the average of the last completed window: what the fit returns when it stops at a window's end.
        Tensor meanSum = zeros_like(mu).DetachFromDisposeScope(), logVarianceSum = zeros_like(logSigma2).DetachFromDisposeScope();
        Tensor? lastMean = null, lastLogVariance = null;
        int inWindow = 0;
        using Scalar one = 1.0;
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
                meanSum.add_(mu, one);
                logVarianceSum.add_(logSigma2, one);
            }
            inWindow++;
            if (inWindow == options.Window)
            {
                double windowMean = windowSum / options.Window;
                lastMean?.Dispose();
                lastLogVariance?.Dispose();
                using (no_grad())
                {
                    lastMean = meanSum.div(inWindow).DetachFromDisposeScope();
                    lastLogVariance = logVarianceSum.div(inWindow).DetachFromDisposeScope();
                }
                meanSum.zero_();
                logVarianceSum.zero_();
                windowSum = 0;
                inWindow = 0;
                // A plateau is two windows in a row that rose by less than the tolerance (one can be Monte Carlo noise): then
                // stop, or go on at a tenth of the rate (fresh moments) to settle closer to the optimum.
                flatWindows = windowMean - previousWindow < options.Tolerance ? flatWindows + 1 : 0;
                previousWindow = windowMean;
                if (flatWindows == 2)
                {
                    if (drops == options.LearningRateDrops) break;
                    drops++;
                    flatWindows = 0;
                    previousWindow = double.NegativeInfinity;
                }
            }
        }
        adam.Dispose();
        Tensor fittedMean, fittedLogVariance;
        using (no_grad())
        {
            // A partial last window of at least half a window is the newest average; else the last complete one; else the iterate.
            bool partial = inWindow > 0 && (2 * inWindow >= options.Window || lastMean is null);
            fittedMean = partial ? meanSum.div(inWindow) : lastMean?.clone() ?? mu.detach().clone();
            fittedLogVariance = partial ? logVarianceSum.div(inWindow) : lastLogVariance?.clone() ?? logSigma2.detach().clone();
        }
        lastMean?.Dispose();
        lastLogVariance?.Dispose();
        meanSum.Dispose();
        logVarianceSum.Dispose();
        mu.Dispose();
        logSigma2.Dispose();
        return (fittedMean, fittedLogVariance, step);
    }

    // x must hold the model's D values per example; μ and log σ² must be [N, d].
    internal static void CheckShapes(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance)
    {
        long n = x.shape[0];
        if (x.numel() != n * model.InputDimensions)
            throw new ArgumentException($"x must hold {model.InputDimensions} values per example for this model ({string.Join("x", model.InputShape)}), got shape [{string.Join(", ", x.shape)}].", nameof(x));
        foreach (var (name, tensor) in new[] { (nameof(mean), mean), (nameof(logVariance), logVariance) })
            if (tensor.dim() != 2 || tensor.shape[0] != n || tensor.shape[1] != model.LatentDimensions)
                throw new ArgumentException($"{name} must be [{n}, {model.LatentDimensions}], got [{string.Join(", ", tensor.shape)}].", name);
    }

    /// <summary>
    /// The ELBO of q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)) per example with <paramref name="samples"/>
    /// draws (Monte Carlo E_q[log p(x|z)], analytic KL), and the variance of each example's estimate: ([N], [N]) float64.
    /// The same estimator scores the encoder's q and the fitted q*, so their difference is not an artefact of two methods.
    /// </summary>
    public static (Tensor Elbo, Tensor Variance) Score(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, int samples, Generator? generator = null, int rowsPerPass = 8192)
    {
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least two samples are needed for a standard error.");
        CheckShapes(model, x, mean, logVariance);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        Tensor flat = x.reshape(n, -1);
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
