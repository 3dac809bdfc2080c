using static TorchSharp.torch;

namespace VaeLab.Models.Priors;

/// <summary>
/// A learned mixture of K diagonal Gaussians, p(z) = Σ_k π_k N(z; m_k, diag s_k²), with π = softmax(w) so the weights are
/// normalised whatever w is: log p(z) = logsumexp_k (log π_k + log N(z; m_k, s_k²)). Initialised with m_k ~ N(0, I), s_k = 1 and
/// equal weights (Tomczak and Welling's "MoG" baseline).
/// </summary>
public sealed class MixturePrior : Prior
{
    readonly TorchSharp.Modules.Parameter means, logVariances, logits;

    /// <summary>Creates a mixture of <paramref name="components"/> Gaussians on <paramref name="latentDimensions"/> dimensions (torch's global generator draws the means).</summary>
    public MixturePrior(long latentDimensions, int components) : base(nameof(MixturePrior), latentDimensions)
    {
        if (components < 1) throw new ArgumentOutOfRangeException(nameof(components), components, "A mixture needs at least one component.");
        Components = components;
        means = nn.Parameter(randn(components, latentDimensions));
        logVariances = nn.Parameter(zeros(components, latentDimensions));
        logits = nn.Parameter(zeros(components));
        RegisterComponents();
    }

    /// <summary>K.</summary>
    public int Components { get; }

    /// <summary>The component means m, [K, d].</summary>
    public Tensor Means => means;

    /// <summary>The component log-variances log s², [K, d].</summary>
    public Tensor LogVariances => logVariances;

    /// <summary>The unnormalised log-weights w, [K] (π = softmax(w)).</summary>
    public Tensor Logits => logits;

    /// <inheritdoc />
    public override PriorSpec Spec => new(PriorKind.Mixture, Components);

    /// <inheritdoc />
    public override Tensor LogDensity(Tensor z)
    {
        CheckLatent(z);
        using var scope = NewDisposeScope();
        Tensor point = z.unsqueeze(-2);                                                        // [..., 1, d]
        Tensor perComponent = DiagonalGaussian.LogDensity(point, means.to(z.dtype), logVariances.to(z.dtype));   // [..., K]
        Tensor logWeights = logits.to(z.dtype).log_softmax(0);
        return perComponent.add(logWeights).logsumexp(-1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor Sample(long count, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        device ??= CPU;
        Tensor component = multinomial(logits.to(ScalarType.Float64, device).softmax(0), count, replacement: true, generator: generator);
        Tensor epsilon = randn(new long[] { count, LatentDimensions }, dtype, device, generator: generator);
        return DiagonalGaussian.Sample(means.to(dtype, device).index_select(0, component), logVariances.to(dtype, device).index_select(0, component), epsilon).MoveToOuterDisposeScope();
    }
}
