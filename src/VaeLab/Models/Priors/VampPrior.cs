using VaeLab.Models.Posteriors;
using static TorchSharp.torch;

namespace VaeLab.Models.Priors;

/// <summary>
/// The VampPrior (Tomczak and Welling 2018): p(z) = (1/K) Σ_k q(z | u_k), the model's own posterior at K learned pseudo-inputs u_k,
/// so log p(z) = logsumexp_k log q(z | λ(u_k)) − log K. The pseudo-inputs are u = hardtanh₀¹(W) with W ~ N(0.05, 0.01²), the paper's
/// default initialisation. Every evaluation encodes all K pseudo-inputs in one batch. The model attaches its encoder and
/// posterior family (<see cref="Attach"/>); they are not registered here, so their parameters are counted once, in the model.
/// The posterior family must give log q(z|x) exactly at any z: the Gaussian families do.
/// </summary>
public sealed class VampPrior : Prior
{
    /// <summary>Mean of the pseudo-inputs' initial weights (the paper's pseudoinputs_mean).</summary>
    public const double InitialMean = 0.05;

    /// <summary>Standard deviation of the pseudo-inputs' initial weights (the paper's pseudoinputs_std).</summary>
    public const double InitialStandardDeviation = 0.01;

    readonly TorchSharp.Modules.Parameter weights;
    readonly long[] inputShape;
    // Delegates, not modules: the encoder and family belong to the model, and a module field would register them here a second time.
    Func<Tensor, Tensor>? encode;
    Func<Tensor, Tensor, Tensor>? componentLogDensity;
    Func<Tensor, Tensor, Tensor>? componentSample;

    /// <summary>Creates a VampPrior with <paramref name="components"/> pseudo-inputs of shape <paramref name="inputShape"/> (torch's global generator draws them).</summary>
    public VampPrior(long latentDimensions, int components, IReadOnlyList<long> inputShape) : base(nameof(VampPrior), latentDimensions)
    {
        if (components < 1) throw new ArgumentOutOfRangeException(nameof(components), components, "A VampPrior needs at least one pseudo-input.");
        Components = components;
        this.inputShape = inputShape.ToArray();
        weights = nn.Parameter(randn([components, .. this.inputShape]).mul(InitialStandardDeviation).add(InitialMean));
        RegisterComponents();
    }

    /// <summary>K.</summary>
    public int Components { get; }

    /// <inheritdoc />
    public override PriorSpec Spec => new(PriorKind.Vamp, Components);

    /// <summary>The pseudo-inputs u = hardtanh₀¹(W), [K, ...input shape].</summary>
    public Tensor PseudoInputs => weights.clamp(0, 1);

    /// <summary>Gives the prior the model's encoder and posterior family (the model calls this once).</summary>
    /// <exception cref="ArgumentException">A family without an exact log-density at any z (the flows).</exception>
    public void Attach(Func<Tensor, Tensor> encoder, PosteriorFamily posterior)
    {
        if (posterior is not (DiagonalPosterior or FullCovariancePosterior))
            throw new ArgumentException($"A VampPrior needs log q(z|u) at any z, exactly; the {posterior.Spec} posterior gives it only at its own draws. Use Diagonal or FullCovariance.", nameof(posterior));
        encode = encoder;
        componentLogDensity = posterior.LogDensity;
        componentSample = posterior.Sample;
    }

    /// <summary>λ(u_k): the posterior's parameters at every pseudo-input, [K, P], from one encoder pass.</summary>
    public Tensor ComponentParameters()
    {
        if (encode is null) throw new InvalidOperationException("The VampPrior is not attached to a model: build it through VaeConfig or VariationalAutoencoder.");
        using Tensor inputs = PseudoInputs;
        return encode(inputs);
    }

    /// <inheritdoc />
    public override Tensor LogDensity(Tensor z)
    {
        CheckLatent(z);
        using var scope = NewDisposeScope();
        Tensor parameters = ComponentParameters().to(z.dtype);                      // [K, P]
        long[] batch = z.shape[..^1];
        long count = batch.Aggregate(1L, (a, b) => a * b);
        Tensor points = z.reshape(count, 1, LatentDimensions).expand(count, Components, LatentDimensions);   // [M, K, d]
        Tensor perComponent = componentLogDensity!(points, parameters);                  // [M, K]
        return perComponent.logsumexp(-1).sub(Math.Log(Components)).reshape(batch).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor Sample(long count, Generator? generator = null, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        device ??= CPU;
        Tensor parameters = ComponentParameters().to(dtype, device);
        Tensor component = randint(Components, new long[] { count }, device: device, generator: generator);
        Tensor chosen = parameters.index_select(0, component);
        Tensor epsilon = randn(new long[] { 1, count, LatentDimensions }, dtype, device, generator: generator);
        return componentSample!(chosen, epsilon).squeeze(0).MoveToOuterDisposeScope();
    }
}
