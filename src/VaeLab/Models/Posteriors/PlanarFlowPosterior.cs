using static TorchSharp.torch;

namespace VaeLab.Models.Posteriors;

/// <summary>
/// A diagonal Gaussian pushed through K planar layers (Rezende and Mohamed 2015), f(z) = z + û tanh(wᵀz + b), with every
/// layer's (u, w, b) given by the encoder per example as in the paper: λ = [μ, log σ², then (u, w, b) for each layer]
/// (P = 2d + K(2d + 1)). Invertibility needs wᵀû ≥ −1: û = u + (m(wᵀu) − wᵀu) w / ‖w‖² with m(a) = −1 + softplus(a) makes
/// wᵀû = m(wᵀu) &gt; −1 always. log |det ∂f/∂z| = log (1 + (1 − tanh²(wᵀz + b)) wᵀû). No analytic KL: the estimators use
/// Monte Carlo.
/// </summary>
public sealed class PlanarFlowPosterior : PosteriorFamily
{
    /// <summary>Creates the family with <paramref name="layers"/> planar layers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one layer.</exception>
    public PlanarFlowPosterior(long latentDimensions, int layers) : base(nameof(PlanarFlowPosterior), latentDimensions)
    {
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, "A planar flow needs at least one layer.");
        Layers = layers;
        RegisterComponents();
    }

    /// <summary>Planar layers K.</summary>
    public int Layers { get; }

    /// <inheritdoc/>
    public override PosteriorSpec Spec => new(PosteriorKind.Planar, Layers);

    /// <inheritdoc/>
    public override string Signature => $"planar({Layers})";

    /// <summary>Layer <paramref name="layer"/>'s u ([N, d]), w ([N, d]) and b ([N, 1]) as the encoder gives them (views of λ).</summary>
    public (Tensor U, Tensor W, Tensor B) LayerParameters(Tensor parameters, int layer)
    {
        long d = LatentDimensions, start = 2 * d + layer * (2 * d + 1);
        return (parameters.narrow(-1, start, d), parameters.narrow(-1, start + d, d), parameters.narrow(-1, start + 2 * d, 1));
    }

    /// <summary>û = u + (m(wᵀu) − wᵀu) w / ‖w‖², m(a) = −1 + softplus(a): the u the layer uses, with wᵀû &gt; −1.</summary>
    public static Tensor ConstrainedU(Tensor u, Tensor w)
    {
        using var scope = NewDisposeScope();
        Tensor wu = w.mul(u).sum(-1, keepdim: true);
        Tensor m = nn.functional.softplus(wu).sub(1);
        return u.add(m.sub(wu).mul(w).div(w.square().sum(-1, keepdim: true))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One planar layer: f(z) = z + û tanh(wᵀz + b) and log |det ∂f/∂z| = log (1 + (1 − tanh²(wᵀz + b)) wᵀû), for z [..., N, d]
    /// and a layer's u, w ([N, d]) and b ([N, 1]). Returns ([..., N, d], [..., N]). With wᵀû = −1 + softplus(wᵀu) the determinant is
    /// computed as tanh² + (1 − tanh²)·softplus(wᵀu), the same number, which stays positive in floating point as wᵀû → −1.
    /// </summary>
    public static (Tensor Z, Tensor LogDeterminant) Layer(Tensor z, Tensor u, Tensor w, Tensor b)
    {
        using var scope = NewDisposeScope();
        Tensor uHat = ConstrainedU(u, w);
        Tensor activation = z.mul(w).sum(-1, keepdim: true).add(b).tanh();
        Tensor output = z.add(uHat.mul(activation));
        Tensor slack = nn.functional.softplus(w.mul(u).sum(-1));   // wᵀû + 1 > 0
        Tensor squared = activation.squeeze(-1).square();
        Tensor logDeterminant = squared.add(squared.neg().add(1).mul(slack)).log();
        return (output.MoveToOuterDisposeScope(), logDeterminant.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The inverse of one planar layer at y: a = wᵀz solves a + m tanh(a + b) = wᵀy (m = wᵀû &gt; −1 makes the left side increasing,
    /// and |a − wᵀy| ≤ |m| brackets the root), found by bisection to round-off; then z = y − û tanh(a + b). Not differentiable.
    /// </summary>
    public static Tensor InverseLayer(Tensor y, Tensor u, Tensor w, Tensor b)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor uHat = ConstrainedU(u, w);
        Tensor m = w.mul(uHat).sum(-1, keepdim: true);
        Tensor target = y.mul(w).sum(-1, keepdim: true);
        Tensor low = target.sub(m.abs()), high = target.add(m.abs());
        for (int i = 0; i < 100; i++)
        {
            using var step = NewDisposeScope();
            Tensor middle = low.add(high).mul(0.5);
            Tensor above = middle.add(m.mul(middle.add(b).tanh())).gt(target);
            high.copy_(where(above, middle, high));
            low.copy_(where(above, low, middle));
        }
        Tensor a = low.add(high).mul(0.5);
        return y.sub(uHat.mul(a.add(b).tanh())).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor Sample(Tensor parameters, Tensor epsilon) => SampleWithLogDensity(parameters, epsilon).Z;

    /// <inheritdoc/>
    public override (Tensor Z, Tensor LogDensity) SampleWithLogDensity(Tensor parameters, Tensor epsilon) =>
        FlowForward(parameters, epsilon, Layers, (z, k) => Layer(z, parameters, k));

    /// <inheritdoc/>
    public override Tensor LogDensity(Tensor z, Tensor parameters) =>
        FlowLogDensity(z, parameters, Layers, (y, k) => { var (u, w, b) = LayerParameters(parameters, k); return InverseLayer(y, u, w, b); }, (point, k) => Layer(point, parameters, k));

    (Tensor Z, Tensor LogDeterminant) Layer(Tensor z, Tensor parameters, int k)
    {
        var (u, w, b) = LayerParameters(parameters, k);
        return Layer(z, u, w, b);
    }

    /// <inheritdoc/>
    public override string DescribeColumn(long column)
    {
        long d = LatentDimensions;
        if (column < 2 * d) return base.DescribeColumn(column);
        long layer = (column - 2 * d) / (2 * d + 1), offset = (column - 2 * d) % (2 * d + 1);
        return $"planar layer {layer + 1}'s {(offset < d ? "u" : offset < 2 * d ? "w" : "b")}";
    }
}
