using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VaeLab.Models.Posteriors;

/// <summary>The family of the approximate posterior q(z|x).</summary>
public enum PosteriorKind
{
    /// <summary>N(μ, diag σ²): <see cref="DiagonalPosterior"/>.</summary>
    Diagonal,

    /// <summary>N(μ, L Lᵀ) with a lower-triangular Cholesky factor L from the encoder: <see cref="FullCovariancePosterior"/>.</summary>
    FullCovariance,

    /// <summary>A diagonal Gaussian pushed through K planar layers with amortised parameters: <see cref="PlanarFlowPosterior"/>.</summary>
    Planar,

    /// <summary>A diagonal Gaussian pushed through K inverse autoregressive layers: <see cref="InverseAutoregressiveFlowPosterior"/>.</summary>
    Iaf,
}

/// <summary>
/// A posterior family and its number of flow layers, written as the CLI and sweep specs take it: <c>Diagonal</c>,
/// <c>FullCovariance</c>, <c>Planar:K</c> or <c>Iaf:K</c> (K ≥ 1 layers). <see cref="Build"/> makes the family for a latent size.
/// </summary>
/// <param name="Kind">The family.</param>
/// <param name="Layers">Flow layers K (0 for the Gaussian families).</param>
[JsonConverter(typeof(PosteriorSpecJsonConverter))]
public sealed record PosteriorSpec(PosteriorKind Kind, int Layers = 0)
{
    /// <summary>The most flow layers a spec may ask for (a guard against a typo such as Planar:400000).</summary>
    public const int MaxLayers = 64;

    /// <summary>The diagonal Gaussian, VaeLab's default family.</summary>
    public static PosteriorSpec Diagonal { get; } = new(PosteriorKind.Diagonal);

    /// <summary>The spellings <see cref="Parse"/> takes, for help texts and errors.</summary>
    public const string Forms = "Diagonal, FullCovariance, Planar:K or Iaf:K (K flow layers, 1 to 64)";

    /// <summary>Whether this is the diagonal Gaussian.</summary>
    [JsonIgnore]
    public bool IsDiagonal => Kind == PosteriorKind.Diagonal;

    /// <summary>Checks the layer count against the family.</summary>
    /// <exception cref="ArgumentException">A flow with K &lt; 1 or K &gt; 64 layers, or layers on a Gaussian family.</exception>
    public void Validate()
    {
        bool flow = Kind is PosteriorKind.Planar or PosteriorKind.Iaf;
        if (flow && (Layers < 1 || Layers > MaxLayers))
            throw new ArgumentException($"A {Kind} posterior needs 1 to {MaxLayers} flow layers ({Kind}:K), not {Layers}.", nameof(Layers));
        if (!flow && Layers != 0)
            throw new ArgumentException($"The {Kind} posterior has no flow layers; write {Kind}, not {Kind}:{Layers}.", nameof(Layers));
        if (!Enum.IsDefined(Kind)) throw new ArgumentException($"Unknown posterior family {(int)Kind}.", nameof(Kind));
    }

    /// <summary>
    /// The numbers per example the encoder gives for this family on <paramref name="latentDimensions"/> dimensions: μ and log σ² (2d),
    /// plus the Cholesky factor's d(d−1)/2 off-diagonal entries, or K planar layers' (u, w, b) (2d + 1 each), or IAF's context (d).
    /// </summary>
    public long ParameterCount(long latentDimensions)
    {
        long d = latentDimensions;
        return 2 * d + Kind switch
        {
            PosteriorKind.FullCovariance => d * (d - 1) / 2,
            PosteriorKind.Planar => Layers * (2 * d + 1),
            PosteriorKind.Iaf => d,
            _ => 0,
        };
    }

    /// <summary>Checks the layer count and that the family can take <paramref name="latentDimensions"/> latent dimensions.</summary>
    /// <exception cref="ArgumentException">What <see cref="Validate()"/> refuses, or an IAF on one latent dimension.</exception>
    public void Validate(long latentDimensions)
    {
        Validate();
        if (Kind == PosteriorKind.Iaf && latentDimensions < 2)
            throw new ArgumentException($"An {this} posterior needs at least 2 latent dimensions: on {latentDimensions}, its autoregressive layers have no inputs and it is the diagonal Gaussian (use Diagonal).", nameof(latentDimensions));
    }

    /// <summary>Builds the family for <paramref name="latentDimensions"/> latent dimensions (torch's global generator initialises any weights).</summary>
    /// <exception cref="ArgumentException">A family that cannot take these dimensions (<see cref="Validate(long)"/>).</exception>
    public PosteriorFamily Build(long latentDimensions)
    {
        Validate(latentDimensions);
        return Kind switch
        {
            PosteriorKind.Diagonal => new DiagonalPosterior(latentDimensions),
            PosteriorKind.FullCovariance => new FullCovariancePosterior(latentDimensions),
            PosteriorKind.Planar => new PlanarFlowPosterior(latentDimensions, Layers),
            _ => new InverseAutoregressiveFlowPosterior(latentDimensions, Layers),
        };
    }

    /// <summary>Reads <c>Diagonal</c>, <c>FullCovariance</c>, <c>Planar:K</c> or <c>Iaf:K</c> (case-insensitive).</summary>
    /// <exception cref="FormatException">Any other text, naming it and the forms taken.</exception>
    public static PosteriorSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split(':');
        // Exact names only: Enum.TryParse would read "Diagonal,Planar" as the two flags OR-ed together, and "3" as a number.
        string? name = Enum.GetNames<PosteriorKind>().FirstOrDefault(n => string.Equals(n, parts[0].Trim(), StringComparison.OrdinalIgnoreCase));
        if (parts.Length > 2 || name is null)
            throw new FormatException($"'{text}' is not a posterior family; write {Forms}.");
        PosteriorKind kind = Enum.Parse<PosteriorKind>(name);
        int layers = 0;
        if (parts.Length == 2 && !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out layers))
            throw new FormatException($"'{text}': the layer count '{parts[1]}' is not a whole number; write {Forms}.");
        bool flow = kind is PosteriorKind.Planar or PosteriorKind.Iaf;
        if (flow && parts.Length == 1)
            throw new FormatException($"'{text}': say how many flow layers, e.g. {kind}:4.");
        var spec = new PosteriorSpec(kind, layers);
        try { spec.Validate(); }
        catch (ArgumentException e) { throw new FormatException($"'{text}': {e.Message.Split(" (Parameter")[0]}", e); }
        return spec;
    }

    /// <summary>The spec as <see cref="Parse"/> reads it: "Diagonal", "FullCovariance", "Planar:4", "Iaf:2".</summary>
    public override string ToString() => Layers == 0 ? Kind.ToString() : string.Create(CultureInfo.InvariantCulture, $"{Kind}:{Layers}");
}

/// <summary>Writes a <see cref="PosteriorSpec"/> as its text ("Planar:4") and reads it back.</summary>
public sealed class PosteriorSpecJsonConverter : JsonConverter<PosteriorSpec>
{
    /// <inheritdoc/>
    public override PosteriorSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"A posterior is written as text ({PosteriorSpec.Forms}).");
        try { return PosteriorSpec.Parse(reader.GetString()!); }
        catch (FormatException e) { throw new JsonException(e.Message, e); }
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, PosteriorSpec value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
