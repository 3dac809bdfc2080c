using static TorchSharp.torch;

namespace VaeLab.Models.Posteriors;

/// <summary>
/// A family of approximate posteriors q(z|x), indexed per example by the encoder's output λ(x) ([N, <see cref="ParameterCount"/>]).
/// Every family starts from a diagonal Gaussian: λ begins with its mean μ (d values) and log-variance log σ² (d values), and a
/// family adds what it needs after them (a Cholesky factor's off-diagonal, flow parameters, a context vector). A family may
/// also hold weights of its own shared by all examples (IAF's autoregressive networks): it is a module of the VAE, so
/// checkpoints save them.
/// <para>
/// Noise ε ~ N(0, I) ([..., N, d], leading sample dimensions broadcast against λ's [N, P]) is drawn by the caller, so a family
/// is a deterministic map: z = f(λ, ε), differentiable in λ and in the family's weights (the reparameterisation).
/// </para>
/// </summary>
public abstract class PosteriorFamily : nn.Module
{
    /// <summary>Creates the module.</summary>
    protected PosteriorFamily(string name, long latentDimensions) : base(name)
    {
        if (latentDimensions < 1) throw new ArgumentOutOfRangeException(nameof(latentDimensions), latentDimensions, "The latent needs at least one dimension.");
        LatentDimensions = latentDimensions;
    }

    /// <summary>Latent dimensions d.</summary>
    public long LatentDimensions { get; }

    /// <summary>The numbers per example the encoder gives for this family, P (<see cref="PosteriorSpec.ParameterCount"/>; 2d for the diagonal Gaussian).</summary>
    public long ParameterCount => Spec.ParameterCount(LatentDimensions);

    /// <summary>The family as the CLI writes it ("Diagonal", "Planar:4").</summary>
    public abstract PosteriorSpec Spec { get; }

    /// <summary>A stable text naming the family and its sizes, part of a checkpoint's architecture signature.</summary>
    public abstract string Signature { get; }

    /// <summary>The base Gaussian's mean μ: the first d columns of λ (a view).</summary>
    public Tensor Mean(Tensor parameters) => parameters.narrow(-1, 0, LatentDimensions);

    /// <summary>The base Gaussian's log σ²: columns d to 2d of λ (a view).</summary>
    public Tensor LogVariance(Tensor parameters) => parameters.narrow(-1, LatentDimensions, LatentDimensions);

    /// <summary>z = f(λ, ε) for noise <paramref name="epsilon"/> [..., N, d]: [..., N, d].</summary>
    public abstract Tensor Sample(Tensor parameters, Tensor epsilon);

    /// <summary>z = f(λ, ε) and the exact log q(z|x) of that z in nats ([..., N, d] and [..., N]), computed along the way.</summary>
    public abstract (Tensor Z, Tensor LogDensity) SampleWithLogDensity(Tensor parameters, Tensor epsilon);

    /// <summary>
    /// The exact log q(z|x) in nats at any <paramref name="z"/> [..., N, d] ([..., N]): the map is inverted (a triangular solve,
    /// a monotone root per planar layer, d fixed-point passes per autoregressive layer). Slower than
    /// <see cref="SampleWithLogDensity"/>; for densities on grids and for checks.
    /// </summary>
    public abstract Tensor LogDensity(Tensor z, Tensor parameters);

    /// <summary>KL(q(z|x) ‖ N(0, I)) per example in nats ([N]) where it has a closed form; null where it has none (flows), and the estimators use Monte Carlo.</summary>
    public virtual Tensor? AnalyticKlToStandardNormal(Tensor parameters) => null;

    /// <summary>The same KL split over latent dimensions ([N, d]) where it splits so (the diagonal Gaussian); null otherwise.</summary>
    public virtual Tensor? AnalyticKlPerDimension(Tensor parameters) => null;

    /// <summary>f(λ, 0): the point the base mean maps to, [N, d]; the mean μ itself for the Gaussian families. Reconstructions and latent plots use it.</summary>
    public Tensor Location(Tensor parameters)
    {
        using Tensor zero = zeros(parameters.shape[0], LatentDimensions, dtype: parameters.dtype, device: parameters.device);
        return Sample(parameters, zero);
    }

    /// <summary>What column <paramref name="column"/> of λ holds, for error messages ("the encoder mean μ", "planar layer 2's w").</summary>
    public virtual string DescribeColumn(long column) =>
        column < LatentDimensions ? "the encoder mean μ" : column < 2 * LatentDimensions ? "the encoder log σ² (log-variance)" : $"the {Spec} posterior's parameter {column - 2 * LatentDimensions}";

    /// <summary>Checks λ's shape: [N, P].</summary>
    /// <exception cref="ArgumentException">Another shape, naming the one expected.</exception>
    public void CheckParameters(Tensor parameters, string name = "parameters")
    {
        if (parameters.dim() != 2 || parameters.shape[1] != ParameterCount)
            throw new ArgumentException($"{name} must be [N, {ParameterCount}] for a {Spec} posterior on {LatentDimensions} latent dimensions, got [{string.Join(", ", parameters.shape)}].", name);
    }

    /// <summary>
    /// A flow's draw: z₀ = μ + σ ⊙ ε, then <paramref name="layers"/> layers (<paramref name="layer"/>(z, k) gives layer k's output and
    /// log |det|), with log q(z_K) = log N(z₀; μ, σ²) − Σ_k log |det ∂f_k/∂z_{k−1}| carried along.
    /// </summary>
    protected (Tensor Z, Tensor LogDensity) FlowForward(Tensor parameters, Tensor epsilon, int layers, Func<Tensor, int, (Tensor Z, Tensor LogDeterminant)> layer)
    {
        using var scope = NewDisposeScope();
        Tensor logVariance = LogVariance(parameters);
        Tensor z = DiagonalGaussian.Sample(Mean(parameters), logVariance, epsilon);
        Tensor logDensity = BaseLogDensity(epsilon, logVariance);
        for (int k = 0; k < layers; k++)
        {
            var (next, logDeterminant) = layer(z, k);
            z = next;
            logDensity = logDensity.sub(logDeterminant);
        }
        return (z.MoveToOuterDisposeScope(), logDensity.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// A flow's log q at any z: the layers inverted back to z₀ (<paramref name="inverse"/>(y, k), last layer first), then
    /// <see cref="FlowForward"/> from the ε of that z₀, so the log-determinants are taken at the points a draw passes.
    /// </summary>
    protected Tensor FlowLogDensity(Tensor z, Tensor parameters, int layers, Func<Tensor, int, Tensor> inverse, Func<Tensor, int, (Tensor Z, Tensor LogDeterminant)> layer)
    {
        using var scope = NewDisposeScope();
        Tensor point = z;
        for (int k = layers - 1; k >= 0; k--) point = inverse(point, k);
        Tensor epsilon = point.sub(Mean(parameters)).div(DiagonalGaussian.StandardDeviation(LogVariance(parameters)));
        return FlowForward(parameters, epsilon, layers, layer).LogDensity.MoveToOuterDisposeScope();
    }

    /// <summary>log N(ε; 0, I) − ½ Σ log σ²: the log-density of the base Gaussian at z₀ = μ + σ ⊙ ε, from the noise (no division).</summary>
    protected static Tensor BaseLogDensity(Tensor epsilon, Tensor logVariance)
    {
        using var scope = NewDisposeScope();
        return DiagonalGaussian.LogStandardNormal(epsilon).sub(logVariance.sum(-1).mul(0.5)).MoveToOuterDisposeScope();
    }
}
