using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A variational auto-encoder: Gaussian encoder q(z|x) = N(μ(x), diag σ²(x)), standard normal prior
/// p(z) = N(0, I), and a decoder network with its likelihood p(x|z). Encoder, decoder and likelihood are
/// injectable; <see cref="VaeConfig"/> builds the usual ones. The objectives live in <c>VaeLab.Objectives</c>.
/// </summary>
public sealed class VariationalAutoencoder : nn.Module
{
    /// <summary>Assembles a VAE from its parts.</summary>
    /// <param name="encoder">The encoder network.</param>
    /// <param name="decoder">The decoder network; its output size must be D · likelihood.OutputsPerDimension.</param>
    /// <param name="likelihood">The likelihood p(x|z).</param>
    /// <param name="inputShape">Shape of one example, e.g. [1, 28, 28].</param>
    public VariationalAutoencoder(GaussianEncoder encoder, Decoder decoder, Likelihood likelihood, long[] inputShape)
        : base(nameof(VariationalAutoencoder))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(likelihood);
        ArgumentNullException.ThrowIfNull(inputShape);
        Encoder = encoder;
        Decoder = decoder;
        Likelihood = likelihood;
        InputShape = inputShape.ToArray();
        InputDimensions = InputShape.Aggregate(1L, (a, b) => a * b);
        RegisterComponents();
    }

    /// <summary>The encoder q(z|x).</summary>
    public GaussianEncoder Encoder { get; }

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
    /// signature have interchangeable parameters. Checkpoints store it and refuse a mismatch.
    /// </summary>
    public string Signature => $"{Encoder.Signature}|{Decoder.Signature}|{Likelihood.Signature}|input {string.Join("x", InputShape)}";

    /// <summary>q(z|x): mean μ and log-variance log σ², both [N, d].</summary>
    public (Tensor Mean, Tensor LogVariance) Encode(Tensor x) => Encoder.forward(x);

    /// <summary>The likelihood's parameters for latents [N, d]: [N, D·k].</summary>
    public Tensor Decode(Tensor z) => Decoder.forward(z);

    /// <summary>
    /// The reparameterisation z = μ + σ ⊙ ε with ε ~ N(0, I) drawn from <paramref name="generator"/> in the shape of
    /// <paramref name="mean"/> (which may carry leading sample dimensions): differentiable in μ and log σ².
    /// </summary>
    public static Tensor Reparameterize(Tensor mean, Tensor logVariance, Generator? generator = null)
    {
        using Tensor epsilon = randn(mean.shape, mean.dtype, mean.device, generator: generator);
        return DiagonalGaussian.Sample(mean, logVariance, epsilon);
    }

    /// <summary><paramref name="count"/> draws z ~ p(z) decoded to the likelihood's mean, shaped like inputs [n, ...].</summary>
    public Tensor Sample(int count, Generator? generator = null)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var parameter = Encoder.parameters().FirstOrDefault();
        Tensor z = randn(new long[] { count, LatentDimensions }, parameter?.dtype ?? ScalarType.Float32, parameter?.device ?? CPU, generator: generator);
        return Likelihood.Mean(Decode(z)).view(ExampleBatchShape(count)).MoveToOuterDisposeScope();
    }

    /// <summary>Reconstructions: the likelihood's mean at z = μ(x), shaped like the inputs.</summary>
    public Tensor Reconstruct(Tensor x)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (mean, _) = Encode(x);
        return Likelihood.Mean(Decode(mean)).view(ExampleBatchShape(x.shape[0])).MoveToOuterDisposeScope();
    }

    long[] ExampleBatchShape(long count) => [count, .. InputShape];
}
