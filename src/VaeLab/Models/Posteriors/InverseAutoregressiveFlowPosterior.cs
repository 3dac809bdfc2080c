using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models.Posteriors;

/// <summary>
/// Inverse autoregressive flow (Kingma et al. 2016): a diagonal Gaussian z₀ = μ + σ ⊙ ε followed by K layers
/// z ← σ_t ⊙ z + (1 − σ_t) ⊙ m_t with (m_t, s_t) = MADE_t(z, h), σ_t = sigmoid(s_t) (the numerically stable gated update).
/// Each layer's Jacobian is triangular with diagonal σ_t, so log |det| = Σ_j log σ_t,j. The order of the coordinates is reversed
/// from one layer to the next. λ = [μ, log σ², h] with a context h of d values from the encoder (P = 3d); the MADE weights are
/// the family's own, shared by all examples (the local q* fit keeps them and fits λ).
/// </summary>
public sealed class InverseAutoregressiveFlowPosterior : PosteriorFamily
{
    readonly ModuleList<AutoregressiveNetwork> networks;

    /// <summary>Creates the family with <paramref name="layers"/> autoregressive layers (hidden width 4d each).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one layer.</exception>
    public InverseAutoregressiveFlowPosterior(long latentDimensions, int layers) : base(nameof(InverseAutoregressiveFlowPosterior), latentDimensions)
    {
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, "An inverse autoregressive flow needs at least one layer.");
        Layers = layers;
        networks = new ModuleList<AutoregressiveNetwork>(Enumerable.Range(0, layers)
            .Select(t => new AutoregressiveNetwork(latentDimensions, ContextSize, HiddenWidth, reversed: t % 2 == 1)).ToArray());
        RegisterComponents();
    }

    /// <summary>Autoregressive layers K.</summary>
    public int Layers { get; }

    /// <summary>Size c of the context h the encoder gives (d).</summary>
    public long ContextSize => LatentDimensions;

    /// <summary>Width of each MADE's hidden layer (4d).</summary>
    public long HiddenWidth => 4 * LatentDimensions;

    /// <summary>The autoregressive network of each layer, in the order z meets them.</summary>
    public IReadOnlyList<AutoregressiveNetwork> Networks => networks.ToArray();

    /// <inheritdoc/>
    public override PosteriorSpec Spec => new(PosteriorKind.Iaf, Layers);

    /// <inheritdoc/>
    public override string Signature => $"iaf({Layers}, made {LatentDimensions}+{ContextSize}-{HiddenWidth}-{2 * LatentDimensions})";

    /// <summary>The context h ([N, c], a view of λ).</summary>
    public Tensor Context(Tensor parameters) => parameters.narrow(-1, 2 * LatentDimensions, ContextSize);

    /// <summary>
    /// One layer: z' = σ ⊙ z + (1 − σ) ⊙ m with (m, s) = MADE(z, h), σ = sigmoid(s), and log |det ∂z'/∂z| = Σ_j log σ_j
    /// ([..., N, d] and [..., N]).
    /// </summary>
    public static (Tensor Z, Tensor LogDeterminant) Layer(AutoregressiveNetwork network, Tensor z, Tensor context)
    {
        using var scope = NewDisposeScope();
        var (shift, gateLogit) = network.Forward(z, context);
        Tensor gate = gateLogit.sigmoid();
        Tensor output = gate.mul(z).add(gate.neg().add(1).mul(shift));
        Tensor logDeterminant = nn.functional.logsigmoid(gateLogit).sum(-1);
        return (output.MoveToOuterDisposeScope(), logDeterminant.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The inverse of one layer at y: z = (y − (1 − σ(z)) ⊙ m(z)) / σ(z) by d fixed-point passes from z = y; pass t makes the t-th
    /// coordinate in the order exact, so d passes invert exactly. Not differentiable.
    /// </summary>
    public static Tensor InverseLayer(AutoregressiveNetwork network, Tensor y, Tensor context)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor z = y.clone();
        for (int pass = 0; pass < y.shape[^1]; pass++)
        {
            using var step = NewDisposeScope();
            var (shift, gateLogit) = network.Forward(z, context);
            Tensor gate = gateLogit.sigmoid();
            z.copy_(y.sub(gate.neg().add(1).mul(shift)).div(gate));
        }
        return z.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor Sample(Tensor parameters, Tensor epsilon) => SampleWithLogDensity(parameters, epsilon).Z;

    /// <inheritdoc/>
    public override (Tensor Z, Tensor LogDensity) SampleWithLogDensity(Tensor parameters, Tensor epsilon)
    {
        using Tensor context = Context(parameters);
        return FlowForward(parameters, epsilon, Layers, (z, t) => Layer(networks[t], z, context));
    }

    /// <inheritdoc/>
    public override Tensor LogDensity(Tensor z, Tensor parameters)
    {
        using Tensor context = Context(parameters);
        return FlowLogDensity(z, parameters, Layers, (y, t) => InverseLayer(networks[t], y, context), (point, t) => Layer(networks[t], point, context));
    }

    /// <inheritdoc/>
    public override string DescribeColumn(long column) =>
        column < 2 * LatentDimensions ? base.DescribeColumn(column) : "the IAF context h";
}
