using System.Text.Json.Serialization;
using VaeLab.Models.Posteriors;
using VaeLab.Models.Priors;

namespace VaeLab.Models;

/// <summary>The network family of a VAE built by <see cref="VaeConfig"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Architecture>))]
public enum Architecture
{
    /// <summary>Fully connected encoder and decoder (<see cref="MlpEncoder"/>, <see cref="MlpDecoder"/>).</summary>
    Mlp,

    /// <summary>Small convolutional encoder and decoder for 1×28×28 images (<see cref="ConvEncoder"/>, <see cref="ConvDecoder"/>).</summary>
    Conv,
}

/// <summary>The likelihood family of a VAE built by <see cref="VaeConfig"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LikelihoodKind>))]
public enum LikelihoodKind
{
    /// <summary><see cref="BernoulliLikelihood"/> on logits.</summary>
    Bernoulli,

    /// <summary><see cref="GaussianLikelihood"/> with a fixed σ.</summary>
    GaussianFixed,

    /// <summary><see cref="GaussianLikelihood"/> with one learned σ.</summary>
    GaussianShared,

    /// <summary><see cref="GaussianLikelihood"/> with a learned σ per pixel.</summary>
    GaussianPerPixel,

    /// <summary><see cref="GaussianLikelihood"/> with σ output by the decoder.</summary>
    GaussianDecoderOutput,

    /// <summary><see cref="DiscretizedLikelihood"/>: a Gaussian integrated over each of the 256 pixel bins, learned scale per pixel.</summary>
    DiscretizedGaussian,

    /// <summary><see cref="DiscretizedLikelihood"/>: a logistic integrated over each of the 256 pixel bins, learned scale per pixel.</summary>
    DiscretizedLogistic,
}

/// <summary>
/// Everything needed to build a VAE, as a record (serialisable, comparable, usable as a sweep setting).
/// Defaults are the pytorch/examples reference: MLP 784-400-20, Bernoulli decoder.
/// </summary>
/// <param name="InputShape">Shape of one example (default 1×28×28).</param>
/// <param name="LatentDimensions">Latent size d.</param>
/// <param name="HiddenSizes">Hidden widths of the MLP encoder; the decoder mirrors them (ignored by Conv).</param>
/// <param name="Architecture">MLP or convolutional.</param>
/// <param name="Likelihood">The decoder's likelihood.</param>
/// <param name="Sigma">σ of a fixed Gaussian, or the initial σ of a learned one.</param>
/// <param name="Posterior">The family of q(z|x) (null: the diagonal Gaussian).</param>
/// <param name="EncoderHiddenSizes">
/// Hidden widths of the MLP encoder when they differ from the decoder's (null: the encoder is <paramref name="HiddenSizes"/> and the
/// decoder mirrors it). Cremer et al.'s larger encoder: <c>HiddenSizes = [200, 200], EncoderHiddenSizes = [500, 500]</c>.
/// </param>
/// <param name="Prior">The prior p(z) (null: the standard normal).</param>
public sealed record VaeConfig(
    long[] InputShape,
    int LatentDimensions = 20,
    int[]? HiddenSizes = null,
    Architecture Architecture = Architecture.Mlp,
    LikelihoodKind Likelihood = LikelihoodKind.Bernoulli,
    double Sigma = 1.0,
    PosteriorSpec? Posterior = null,
    int[]? EncoderHiddenSizes = null,
    PriorSpec? Prior = null)
{
    /// <summary>The prior as given (null: the standard normal, always stored as null so configurations, ids and checkpoints written before priors read the same).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PriorSpec? Prior { get; init; } = Prior is { IsStandard: true } ? null : Prior;

    /// <summary>The prior in use (the standard normal when none was given).</summary>
    [JsonIgnore]
    public PriorSpec PriorInUse => Prior ?? PriorSpec.Standard;

    /// <summary>The reference configuration for 28×28 images: 784-400-20 MLP, Bernoulli.</summary>
    public static VaeConfig Reference { get; } = new([1, 28, 28]);

    /// <summary>The posterior family as given (null: the diagonal Gaussian, which is always stored as null so that configurations compare and serialise alike).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PosteriorSpec? Posterior { get; init; } = Posterior is { IsDiagonal: true } ? null : Posterior;

    /// <summary>
    /// The encoder's own widths (null when the encoder is <see cref="Hidden"/>, which is always stored as null so that configurations
    /// compare and serialise alike, and checkpoints written before this option read the same).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int[]? EncoderHiddenSizes { get; init; } = EncoderHiddenSizes is { } own && own.SequenceEqual(HiddenSizes ?? [400]) ? null : EncoderHiddenSizes;

    /// <summary>Hidden widths in use: the encoder's (400 when none were given); the decoder mirrors them unless <see cref="EncoderHiddenSizes"/> is set.</summary>
    public IReadOnlyList<int> Hidden => HiddenSizes ?? [400];

    /// <summary>The MLP encoder's hidden widths in use.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> EncoderHidden => EncoderHiddenSizes ?? Hidden;

    /// <summary>The posterior family in use (the diagonal Gaussian when none was given).</summary>
    [JsonIgnore]
    public PosteriorSpec PosteriorInUse => Posterior ?? PosteriorSpec.Diagonal;

    /// <summary>
    /// Builds the model on the CPU with freshly initialised parameters (torch's global generator draws them; seed it first).
    /// The model remembers this configuration (<see cref="VariationalAutoencoder.Config"/>): checkpoints store it and training
    /// builds replicas from it.
    /// </summary>
    /// <exception cref="ArgumentException">A convolutional model for inputs that are not 1×28×28, a flow with K &lt; 1 layers, or invalid sizes.</exception>
    public VariationalAutoencoder Build()
    {
        if (LatentDimensions < 1) throw new ArgumentOutOfRangeException(nameof(LatentDimensions), LatentDimensions, "The latent needs at least one dimension.");
        if (EncoderHiddenSizes is not null && Architecture == Architecture.Conv)
            throw new ArgumentException("Encoder hidden widths apply to the MLP; the convolutional architecture has fixed layers.", nameof(EncoderHiddenSizes));
        foreach (int width in Hidden.Concat(EncoderHidden))
            if (width < 1) throw new ArgumentOutOfRangeException(nameof(HiddenSizes), width, "A hidden layer needs at least one unit.");
        PosteriorInUse.Validate(LatentDimensions);
        PriorInUse.Validate();
        if (PriorInUse.Kind == PriorKind.Vamp && PosteriorInUse.Kind is not (PosteriorKind.Diagonal or PosteriorKind.FullCovariance))
            throw new ArgumentException($"A VampPrior needs log q(z|u) at any z, exactly; the {PosteriorInUse} posterior gives it only at its own draws. Use Diagonal or FullCovariance with {PriorInUse}.", nameof(Prior));
        long inputDimensions = InputShape.Aggregate(1L, (a, b) => a * b);
        Likelihood likelihood = Likelihood switch
        {
            LikelihoodKind.Bernoulli => new BernoulliLikelihood(),
            LikelihoodKind.GaussianFixed => new GaussianLikelihood(GaussianVariance.Fixed, inputDimensions, Sigma),
            LikelihoodKind.GaussianShared => new GaussianLikelihood(GaussianVariance.LearnedShared, inputDimensions, Sigma),
            LikelihoodKind.GaussianPerPixel => new GaussianLikelihood(GaussianVariance.LearnedPerDimension, inputDimensions, Sigma),
            LikelihoodKind.GaussianDecoderOutput => new GaussianLikelihood(GaussianVariance.DecoderOutput, inputDimensions, Sigma),
            LikelihoodKind.DiscretizedGaussian => new DiscretizedLikelihood(DiscretizedFamily.Gaussian, GaussianVariance.LearnedPerDimension, inputDimensions, 256, Sigma),
            LikelihoodKind.DiscretizedLogistic => new DiscretizedLikelihood(DiscretizedFamily.Logistic, GaussianVariance.LearnedPerDimension, inputDimensions, 256, Sigma),
            _ => throw new ArgumentOutOfRangeException(nameof(Likelihood), Likelihood, "Unknown likelihood."),
        };
        int k = likelihood.OutputsPerDimension;
        long outputs = PosteriorInUse.ParameterCount(LatentDimensions);
        if (Architecture == Architecture.Conv)
        {
            if (!InputShape.SequenceEqual(new long[] { 1, 28, 28 }))
                throw new ArgumentException($"The convolutional architecture takes 1×28×28 images, not {string.Join("×", InputShape)}.", nameof(InputShape));
            var convEncoder = new ConvEncoder(LatentDimensions, outputs);
            var convDecoder = new ConvDecoder(LatentDimensions, k);
            return new VariationalAutoencoder(convEncoder, convDecoder, likelihood, InputShape, PosteriorInUse.Build(LatentDimensions), PriorInUse.Build(LatentDimensions, InputShape)) { Config = this };
        }
        var encoder = new MlpEncoder(inputDimensions, EncoderHidden, LatentDimensions, outputs);
        var decoder = new MlpDecoder(LatentDimensions, Hidden.Reverse().ToArray(), inputDimensions * k);
        return new VariationalAutoencoder(encoder, decoder, likelihood, InputShape, PosteriorInUse.Build(LatentDimensions), PriorInUse.Build(LatentDimensions, InputShape)) { Config = this };
    }

    /// <inheritdoc />
    public bool Equals(VaeConfig? other) =>
        other is not null && InputShape.SequenceEqual(other.InputShape) && LatentDimensions == other.LatentDimensions
        && Hidden.SequenceEqual(other.Hidden) && EncoderHidden.SequenceEqual(other.EncoderHidden) && Architecture == other.Architecture && Likelihood == other.Likelihood && Sigma.Equals(other.Sigma)
        && PosteriorInUse == other.PosteriorInUse && PriorInUse == other.PriorInUse;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(string.Join(",", InputShape), LatentDimensions, string.Join(",", Hidden), string.Join(",", EncoderHidden), Architecture, Likelihood, Sigma, PosteriorInUse);
}
