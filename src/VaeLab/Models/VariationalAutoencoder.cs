using VaeLab.Models.Posteriors;
using VaeLab.Models.Priors;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A variational auto-encoder: an encoder giving the parameters λ(x) of the approximate posterior q(z|x) in a family
/// (<see cref="PosteriorFamily"/>: the diagonal Gaussian N(μ(x), diag σ²(x)) unless another is given), a prior p(z) (<see cref="Prior"/>:
/// the standard normal N(0, I) unless another is given), and a decoder network with its likelihood p(x|z). Encoder, posterior family, decoder and likelihood are
/// injectable; <see cref="VaeConfig"/> builds the usual ones. The objectives live in <c>VaeLab.Objectives</c>.
/// </summary>
public sealed class VariationalAutoencoder : nn.Module
{
    /// <summary>Assembles a VAE from its parts.</summary>
    /// <param name="encoder">The encoder network.</param>
    /// <param name="decoder">The decoder network; its output size must be D · likelihood.OutputsPerDimension.</param>
    /// <param name="likelihood">The likelihood p(x|z).</param>
    /// <param name="inputShape">Shape of one example, e.g. [1, 28, 28].</param>
    /// <param name="posterior">The posterior family (null: the diagonal Gaussian); the encoder must give its <see cref="PosteriorFamily.ParameterCount"/> numbers.</param>
    /// <param name="prior">The prior (null: the standard normal); a <see cref="VampPrior"/> is attached to this model's encoder.</param>
    /// <exception cref="ArgumentException">The encoder's output size or latent size does not fit the posterior family or the prior.</exception>
    public VariationalAutoencoder(Encoder encoder, Decoder decoder, Likelihood likelihood, long[] inputShape, PosteriorFamily? posterior = null, Prior? prior = null)
        : base(nameof(VariationalAutoencoder))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(likelihood);
        ArgumentNullException.ThrowIfNull(inputShape);
        posterior ??= new DiagonalPosterior(encoder.LatentDimensions);
        if (posterior.LatentDimensions != encoder.LatentDimensions || posterior.ParameterCount != encoder.OutputSize)
            throw new ArgumentException($"The encoder gives {encoder.OutputSize} numbers per example for {encoder.LatentDimensions} latent dimensions; a {posterior.Spec} posterior on "
                + $"{posterior.LatentDimensions} latent dimensions needs {posterior.ParameterCount}.", nameof(encoder));
        prior ??= new StandardNormalPrior(encoder.LatentDimensions);
        if (prior.LatentDimensions != encoder.LatentDimensions)
            throw new ArgumentException($"The prior is on {prior.LatentDimensions} latent dimensions, the encoder on {encoder.LatentDimensions}.", nameof(prior));
        if (prior is VampPrior vamp) vamp.Attach(encoder.forward, posterior);
        Encoder = encoder;
        Posterior = posterior;
        Prior = prior;
        Decoder = decoder;
        Likelihood = likelihood;
        InputShape = inputShape.ToArray();
        InputDimensions = InputShape.Aggregate(1L, (a, b) => a * b);
        RegisterComponents();
    }

    /// <summary>The encoder: x ↦ λ(x), the posterior's parameters.</summary>
    public Encoder Encoder { get; }

    /// <summary>The family of q(z|x) that λ(x) indexes.</summary>
    public PosteriorFamily Posterior { get; }

    /// <summary>The prior p(z).</summary>
    public Prior Prior { get; }

    /// <summary>The decoder network.</summary>
    public Decoder Decoder { get; }

    /// <summary>The likelihood p(x|z).</summary>
    public Likelihood Likelihood { get; }

    /// <summary>Shape of one example.</summary>
    public IReadOnlyList<long> InputShape { get; }

    /// <summary>Scalar values per example, D.</summary>
    public long InputDimensions { get; }

    /// <summary>The configuration the model was built from (<see cref="VaeConfig.Build"/>); null for a model assembled from parts.</summary>
    public VaeConfig? Config { get; internal init; }

    /// <summary>Latent size d.</summary>
    public long LatentDimensions => Encoder.LatentDimensions;

    /// <summary>
    /// The architecture as text (encoder, decoder, likelihood, input shape): two models with the same
    /// signature have interchangeable parameters. Checkpoints store it and refuse a mismatch. The posterior family is named
    /// when it is not the diagonal Gaussian (so the signatures of diagonal models are those VaeLab always wrote).
    /// </summary>
    public string Signature => $"{Encoder.Signature}|{Decoder.Signature}|{Likelihood.Signature}|input {string.Join("x", InputShape)}"
        + (Posterior is DiagonalPosterior ? "" : $"|posterior {Posterior.Signature}")
        + (Prior.IsStandard ? "" : $"|prior {Prior.Signature}");

    /// <summary>λ(x): the parameters of q(z|x) in <see cref="Posterior"/>'s family, [N, P] (for the diagonal Gaussian, [μ, log σ²]).</summary>
    public Tensor Encode(Tensor x) => Encoder.forward(x);

    /// <summary>
    /// The diagonal Gaussian q(z|x) = N(μ, diag σ²) as (μ, log σ²), both [N, d], for code written for that family (the hand-derived
    /// training steps, the checks of the diagonal formulas).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model's posterior is another family.</exception>
    public (Tensor Mean, Tensor LogVariance) EncodeDiagonal(Tensor x)
    {
        if (Posterior is not DiagonalPosterior)
            throw new InvalidOperationException($"This needs a diagonal Gaussian posterior; the model's is {Posterior.Spec}.");
        using Tensor parameters = Encode(x);
        Tensor[] parts = parameters.chunk(2, 1);
        return (parts[0], parts[1]);
    }

    /// <summary>Where q(z|x) sits, [N, d]: μ(x) for the Gaussian families, the flow's image of μ(x) for a flow (<see cref="PosteriorFamily.Location"/>).</summary>
    public Tensor Locate(Tensor x)
    {
        using Tensor parameters = Encode(x);
        return Posterior.Location(parameters);
    }

    /// <summary>
    /// KL(q(z|x) ‖ p(z)) in closed form, [N], where there is one: a Gaussian posterior and the standard normal prior; null otherwise
    /// (the objectives then estimate it by Monte Carlo from their draws). The one place that decides.
    /// </summary>
    public Tensor? AnalyticKl(Tensor parameters) => Prior.IsStandard ? Posterior.AnalyticKlToStandardNormal(parameters) : null;

    /// <summary>The closed-form KL split over latent dimensions, [N, d], where there is one (diagonal posterior, standard prior); else null.</summary>
    public Tensor? AnalyticKlPerDimension(Tensor parameters) => Prior.IsStandard ? Posterior.AnalyticKlPerDimension(parameters) : null;

    /// <summary>The likelihood's parameters for latents [N, d]: [N, D·k].</summary>
    public Tensor Decode(Tensor z) => Decoder.forward(z);

    /// <summary>
    /// ε ~ N(0, I) for <paramref name="samples"/> draws per example of a posterior with parameters λ [N, P]: [S, N, d], drawn from
    /// <paramref name="generator"/> in λ's dtype and device. The one place the library draws the reparameterisation's noise.
    /// </summary>
    public Tensor PosteriorNoise(Tensor parameters, int samples, Generator? generator = null) =>
        StandardNormalNoise([samples, parameters.shape[0], LatentDimensions], parameters, generator);

    /// <summary>
    /// <paramref name="samples"/> draws z ~ q(z|x) for posterior parameters λ [N, P], with their exact log q(z|x): ([S, N, d], [S, N]).
    /// Differentiable in λ and the family's weights.
    /// </summary>
    public (Tensor Z, Tensor LogDensity) SamplePosterior(Tensor parameters, int samples, Generator? generator = null)
    {
        using Tensor epsilon = PosteriorNoise(parameters, samples, generator);
        return Posterior.SampleWithLogDensity(parameters, epsilon);
    }

    /// <summary>
    /// The reparameterisation z = μ + σ ⊙ ε of the diagonal Gaussian with ε ~ N(0, I) drawn from <paramref name="generator"/> in the shape of
    /// <paramref name="mean"/> (which may carry leading sample dimensions): differentiable in μ and log σ². The same noise and formula as
    /// <see cref="DiagonalPosterior.Sample"/>.
    /// </summary>
    public static Tensor Reparameterize(Tensor mean, Tensor logVariance, Generator? generator = null)
    {
        using Tensor epsilon = StandardNormalNoise(mean.shape, mean, generator);
        return DiagonalGaussian.Sample(mean, logVariance, epsilon);
    }

    static Tensor StandardNormalNoise(long[] shape, Tensor like, Generator? generator) => randn(shape, like.dtype, like.device, generator: generator);

    /// <summary><paramref name="count"/> draws z ~ p(z) decoded to the likelihood's mean, shaped like inputs [n, ...].</summary>
    public Tensor Sample(int count, Generator? generator = null)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var parameter = Encoder.parameters().FirstOrDefault();
        Tensor z = Prior.Sample(count, generator, parameter?.dtype ?? ScalarType.Float32, parameter?.device ?? CPU);
        return Likelihood.Mean(Decode(z)).view(ExampleBatchShape(count)).MoveToOuterDisposeScope();
    }

    /// <summary>Reconstructions: the likelihood's mean at z = q's location (μ(x) for the Gaussian families), shaped like the inputs.</summary>
    public Tensor Reconstruct(Tensor x)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Likelihood.Mean(Decode(Locate(x))).view(ExampleBatchShape(x.shape[0])).MoveToOuterDisposeScope();
    }

    long[] ExampleBatchShape(long count) => [count, .. InputShape];
}
