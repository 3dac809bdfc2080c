using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Disentanglement;

/// <summary>
/// Multinomial logistic regression with an L2 penalty on the weights, sklearn's <c>LogisticRegression()</c> defaults (C = 1,
/// softmax over classes, unpenalised intercept): minimises C·Σ_i −log softmax(W x_i + b)_{y_i} + ½‖W‖², in float64 with
/// Newton's method and a backtracking line search until the gradient vanishes (TorchSharp's L-BFGS has no line search and
/// diverged here on badly scaled features). The problem is convex, so the fit is sklearn's optimum.
/// </summary>
public sealed class LogisticRegression : IDisposable
{
    readonly Tensor weights, bias;

    LogisticRegression(Tensor weights, Tensor bias, double gradientNorm)
    {
        this.weights = weights;
        this.bias = bias;
        GradientNorm = gradientNorm;
    }

    /// <summary>The fitted weights W, [class][feature] (sklearn's <c>coef_</c>).</summary>
    public double[][] Weights
    {
        get
        {
            double[] flat = weights.data<double>().ToArray();
            int columns = (int)weights.shape[1];
            return Enumerable.Range(0, (int)weights.shape[0]).Select(k => flat[(k * columns)..((k + 1) * columns)]).ToArray();
        }
    }

    /// <summary>The fitted intercepts b, one per class (sklearn's <c>intercept_</c>).</summary>
    public double[] Intercepts => bias.data<double>().ToArray();

    /// <summary>Largest absolute entry of the objective's gradient (per example) at the fit: how close to the optimum it is.</summary>
    public double GradientNorm { get; }

    /// <summary>Fits the model.</summary>
    /// <param name="features">[N, D] features.</param>
    /// <param name="labels">[N] int64 classes in 0 … classes − 1.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="c">Inverse regularisation strength (sklearn's C).</param>
    /// <exception cref="ArgumentException">Shapes that do not match, labels out of range, or C not positive.</exception>
    public static LogisticRegression Fit(Tensor features, Tensor labels, int classes, double c = 1.0)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.dim() != 2 || labels.dim() != 1 || labels.shape[0] != features.shape[0] || features.shape[0] < 1)
            throw new ArgumentException($"Logistic regression needs features [N, D] and labels [N]; got [{string.Join(", ", features.shape)}] and [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (classes < 2) throw new ArgumentException($"At least two classes, got {classes}.", nameof(classes));
        if (!(c > 0)) throw new ArgumentException($"C must be positive, got {c}.", nameof(c));
        using var scope = NewDisposeScope();
        Tensor x = features.to_type(ScalarType.Float64);
        Tensor y = labels.to_type(ScalarType.Int64);
        if ((y < 0).any().item<bool>() || (y >= classes).any().item<bool>())
            throw new ArgumentException($"Labels must lie in 0 … {classes - 1}.", nameof(labels));
        long n = x.shape[0];
        int p = (int)x.shape[1] + 1;
        Tensor design = cat([x, ones(n, 1, dtype: ScalarType.Float64)], 1);                    // [N, D + 1]: the intercept is the last column
        Tensor target = nn.functional.one_hot(y, classes).to_type(ScalarType.Float64);           // [N, K]
        // The objective divided by C·N (same minimiser, values of order one); the intercept is not penalised.
        double lambda = 1 / (c * n);
        Tensor penalised = ones(p, dtype: ScalarType.Float64);
        penalised[p - 1] = 0;
        Tensor theta = zeros(classes, p, dtype: ScalarType.Float64);
        double Loss(Tensor t) =>
            (-(design.matmul(t.t()).log_softmax(1) * target).sum(1).mean() + 0.5 * lambda * (t * t * penalised).sum()).item<double>();
        double gradient = double.PositiveInfinity;
        for (int iteration = 0; iteration < 200; iteration++)
        {
            using var step = NewDisposeScope();
            Tensor probability = design.matmul(theta.t()).softmax(1);                            // [N, K]
            Tensor grad = (probability - target).t().matmul(design) / n + lambda * theta * penalised;   // [K, D + 1]
            gradient = grad.abs().max().item<double>();
            if (gradient < 1e-11) break;
            // Hessian of the mean cross-entropy: Σ_i (diag p_i − p_i p_iᵀ) ⊗ x_i x_iᵀ / N, as block-diagonal minus ZᵀZ with Z = p ⊗ x.
            Tensor z = (probability.unsqueeze(2) * design.unsqueeze(1)).reshape(n, classes * p);
            Tensor blocks = einsum("na,ni,nj->aij", probability, design, design) / n;
            Tensor hessian = block_diag(Enumerable.Range(0, classes).Select(a => blocks[a]).ToArray()) - z.t().matmul(z) / n
                + diag((lambda * penalised).repeat(classes)) + 1e-12 * eye(classes * p, dtype: ScalarType.Float64);
            Tensor direction = linalg.solve(hessian, grad.reshape(-1)).view(classes, p);
            // Adding a constant to every intercept leaves the softmax unchanged (the Hessian's null direction): keep their sum 0.
            direction[.., p - 1] -= direction[.., p - 1].mean();
            // Backtracking (Armijo) from the full Newton step: the loss falls at every iteration.
            double current = Loss(theta), slope = (grad * direction).sum().item<double>(), t = 1;
            while (t > 1e-10 && Loss(theta - t * direction) > current - 1e-4 * t * slope) t /= 2;
            Tensor next = (theta - t * direction).MoveToOuterDisposeScope();
            theta.Dispose();
            theta = next;
            if (t <= 1e-10) break;   // no descent left at machine precision
        }
        if (!theta.isfinite().all().item<bool>()) throw new InvalidOperationException("Logistic regression diverged (non-finite parameters); the features may hold extreme values.");
        Tensor w = theta.narrow(1, 0, p - 1).contiguous(), b = theta[.., p - 1].contiguous();
        return new LogisticRegression(w.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope(), gradient);
    }

    /// <summary>The most probable class of each row of <paramref name="features"/> [N, D].</summary>
    public Tensor Predict(Tensor features)
    {
        using var scope = NewDisposeScope();
        return (features.to_type(ScalarType.Float64).matmul(weights.t()) + bias).argmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>The fraction of rows whose predicted class is the label.</summary>
    public double Accuracy(Tensor features, Tensor labels)
    {
        using var scope = NewDisposeScope();
        return Predict(features).eq(labels.to_type(ScalarType.Int64)).to_type(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>Frees the parameters.</summary>
    public void Dispose()
    {
        weights.Dispose();
        bias.Dispose();
    }
}
