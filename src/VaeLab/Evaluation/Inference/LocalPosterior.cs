using TorchSharp;
using TorchSharp.Modules;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using VaeLab.Objectives;
using VaeLab.Optimization;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// The best q in the model's posterior family for each example, fitted alone (Cremer, Li and Duvenaud 2018): the parameters λ*
/// maximising the ELBO of that one x, by Adam on λ started from the encoder's output λ(x), with the library's own
/// <see cref="Elbo.Estimate(VariationalAutoencoder, Tensor, Tensor, Generator?, int)"/> as the objective. The family's shared
/// weights (IAF's networks) and the decoder stay fixed: q* is in the same family as q. L[q*] − L[q] is the amortisation gap (what
/// sharing one encoder across the data costs); log p(x) − L[q*] the approximation gap (what the family costs). Batched over
/// examples: each has its own parameters and Adam moments.
/// </summary>
public static class LocalPosterior
{
    /// <summary>Fits q* for the examples <paramref name="x"/> [N, ...] from the encoder's λ(x); returns λ* ([N, P]) and the steps taken.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Settings out of range (<see cref="LocalPosteriorOptions.Validate"/>).</exception>
    public static (Tensor Parameters, int Steps) Fit(VariationalAutoencoder model, Tensor x, LocalPosteriorOptions? options = null, Generator? generator = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new LocalPosteriorOptions();
        options.Validate();
        model.eval();
        Tensor initial;
        using (no_grad()) initial = model.Encode(x).detach();
        using (initial) return Fit(model, x, initial, options, generator, cancellation);
    }

    /// <summary>Fits q* of a diagonal-Gaussian model starting from q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)) ([N, d] each); returns μ*, log σ²*.</summary>
    /// <exception cref="InvalidOperationException">The model's posterior family is not the diagonal Gaussian.</exception>
    public static (Tensor Mean, Tensor LogVariance, int Steps) Fit(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, LocalPosteriorOptions options, Generator? generator = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireDiagonal(model);
        CheckShapes(model, x, mean, logVariance);
        using Tensor start = cat([mean, logVariance], -1);
        var (fitted, steps) = Fit(model, x, start, options, generator, cancellation);
        using (fitted)
        {
            Tensor[] parts = fitted.chunk(2, 1);
            return (parts[0], parts[1], steps);
        }
    }

    /// <summary>Fits q* starting from posterior parameters <paramref name="parameters"/> ([N, P] in the model's family); returns λ* and the steps taken.</summary>
    public static (Tensor Parameters, int Steps) Fit(VariationalAutoencoder model, Tensor x, Tensor parameters, LocalPosteriorOptions options, Generator? generator = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        CheckShapes(model, x, parameters);
        model.eval();
        using var frozen = new FrozenParameters(model);
        using var enable = enable_grad();   // callable from inside no_grad(): the fit differentiates with respect to λ
        var lambda = new Parameter(parameters.detach().clone(), requires_grad: true);
        var adam = new FlatAdam([lambda], options.LearningRate);
        int drops = 0, flatWindows = 0, step = 0;
        double windowSum = 0, previousWindow = double.NegativeInfinity;
        // Adam with a fixed rate ends jittering around the optimum; the iterates averaged over a window (Polyak) sit closer.
        // `last` keeps the average of the last completed window: what the fit returns when it stops at a window's end.
        Tensor sum = zeros_like(lambda).DetachFromDisposeScope();
        Tensor? last = null;
        int inWindow = 0;
        using Scalar one = 1.0;
        while (step < options.MaxSteps)
        {
            cancellation.ThrowIfCancellationRequested();
            if (adam.LearningRate > options.LearningRate * Math.Pow(0.1, drops) * 1.5)
            {
                // Made outside the step's dispose scope: the optimiser's buffers live across steps.
                adam.Dispose();
                adam = new FlatAdam([lambda], options.LearningRate * Math.Pow(0.1, drops));
            }
            using var scope = NewDisposeScope();
            adam.ZeroGrad();
            using ElboEstimate terms = Elbo.Estimate(model, x, lambda, generator, options.SamplesPerStep);
            Tensor elbo = terms.ElboNats();
            // Examples are independent (each has its own λ and Adam moments), so the sum's gradient is each one's own.
            elbo.sum().neg().backward();
            adam.Step();
            step++;
            windowSum += elbo.mean().to_type(ScalarType.Float64).item<double>();
            using (no_grad()) sum.add_(lambda, one);
            inWindow++;
            if (inWindow == options.Window)
            {
                double windowMean = windowSum / options.Window;
                last?.Dispose();
                using (no_grad()) last = sum.div(inWindow).DetachFromDisposeScope();
                sum.zero_();
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
        Tensor fitted;
        using (no_grad())
        {
            // A partial last window of at least half a window is the newest average; else the last complete one; else the iterate.
            bool partial = inWindow > 0 && (2 * inWindow >= options.Window || last is null);
            fitted = partial ? sum.div(inWindow) : last?.clone() ?? lambda.detach().clone();
        }
        last?.Dispose();
        sum.Dispose();
        lambda.Dispose();
        return (fitted, step);
    }

    static void RequireDiagonal(VariationalAutoencoder model)
    {
        if (model.Posterior is not DiagonalPosterior)
            throw new InvalidOperationException($"q given as (μ, log σ²) needs a diagonal Gaussian posterior; the model's is {model.Posterior.Spec}: pass its parameters λ.");
    }

    // x must hold the model's D values per example; λ must be [N, P].
    internal static void CheckShapes(VariationalAutoencoder model, Tensor x, Tensor parameters)
    {
        long n = x.shape[0];
        if (x.numel() != n * model.InputDimensions)
            throw new ArgumentException($"x must hold {model.InputDimensions} values per example for this model ({string.Join("x", model.InputShape)}), got shape [{string.Join(", ", x.shape)}].", nameof(x));
        model.Posterior.CheckParameters(parameters, nameof(parameters));
        if (parameters.shape[0] != n)
            throw new ArgumentException($"parameters must hold one row per example ({n}), got {parameters.shape[0]}.", nameof(parameters));
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
    /// The ELBO of a diagonal-Gaussian model's q = N(<paramref name="mean"/>, diag exp(<paramref name="logVariance"/>)) per example
    /// (<see cref="Score(VariationalAutoencoder, Tensor, Tensor, int, Generator?, int)"/>).
    /// </summary>
    public static (Tensor Elbo, Tensor Variance) Score(VariationalAutoencoder model, Tensor x, Tensor mean, Tensor logVariance, int samples, Generator? generator = null, int rowsPerPass = 8192)
    {
        RequireDiagonal(model);
        CheckShapes(model, x, mean, logVariance);
        using Tensor parameters = cat([mean, logVariance], -1);
        return Score(model, x, parameters, samples, generator, rowsPerPass);
    }

    /// <summary>
    /// The ELBO of q with parameters λ ([N, P] in the model's family) per example with <paramref name="samples"/> draws (Monte Carlo
    /// E_q[log p(x|z)]; the KL analytic where the family has one, else Monte Carlo on the same draws), and the variance of each
    /// example's estimate: ([N], [N]) float64. The same estimator scores the encoder's q and the fitted q*, so their difference is
    /// not an artefact of two methods.
    /// </summary>
    public static (Tensor Elbo, Tensor Variance) Score(VariationalAutoencoder model, Tensor x, Tensor parameters, int samples, Generator? generator = null, int rowsPerPass = 8192)
    {
        if (samples < 2) throw new ArgumentOutOfRangeException(nameof(samples), samples, "At least two samples are needed for a standard error.");
        CheckShapes(model, x, parameters);
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
            using ElboEstimate terms = Elbo.Estimate(model, flat.repeat(size, 1), parameters.repeat(size, 1), generator, 1);
            Tensor values = terms.ElboNats().to_type(ScalarType.Float64).view(size, n);
            sum.add_(values.sum([0]));
            sumSquares.add_(values.square().sum([0]));
        }
        Tensor average = sum.div(samples);
        Tensor variance = sumSquares.div(samples).sub(average.square()).clamp_min(0).mul(samples / (samples - 1.0)).div(samples);
        return (average.MoveToOuterDisposeScope(), variance.MoveToOuterDisposeScope());
    }
}
