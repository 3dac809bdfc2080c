using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VaeLab.Models.Priors;

/// <summary>The kind of prior p(z).</summary>
public enum PriorKind
{
    /// <summary>N(0, I): <see cref="StandardNormalPrior"/>.</summary>
    Standard,

    /// <summary>A learned mixture of K diagonal Gaussians: <see cref="MixturePrior"/>.</summary>
    Mixture,

    /// <summary>The VampPrior: the mixture of the encoder's posteriors at K learned pseudo-inputs (<see cref="VampPrior"/>).</summary>
    Vamp,
}

/// <summary>
/// A prior as a setting: "Standard", "Mixture:K" or "Vamp:K" (K components, 1 to <see cref="MaxComponents"/>). Serialised as that text.
/// </summary>
/// <param name="Kind">Which prior.</param>
/// <param name="Components">K, its number of components (0 for the standard normal).</param>
[JsonConverter(typeof(PriorSpecJsonConverter))]
public sealed record PriorSpec(PriorKind Kind, int Components = 0)
{
    /// <summary>The most components a prior may have.</summary>
    public const int MaxComponents = 10_000;

    /// <summary>The standard normal prior.</summary>
    public static PriorSpec Standard { get; } = new(PriorKind.Standard);

    /// <summary>The forms a prior is written in.</summary>
    public const string Forms = "Standard, Mixture:K (K learned Gaussians) or Vamp:K (K pseudo-inputs), K from 1 to 10000";

    /// <summary>Whether this is N(0, I).</summary>
    [JsonIgnore]
    public bool IsStandard => Kind == PriorKind.Standard;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">K out of range for a mixture, or given for the standard normal.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentException($"Unknown prior {(int)Kind}.", nameof(Kind));
        if (IsStandard && Components != 0) throw new ArgumentException($"The standard normal prior has no components; write Standard, not Standard:{Components}.", nameof(Components));
        if (!IsStandard && (Components < 1 || Components > MaxComponents))
            throw new ArgumentException($"A {Kind} prior needs 1 to {MaxComponents} components ({Kind}:K), not {Components}.", nameof(Components));
    }

    /// <summary>Parses "Standard", "Mixture:K" or "Vamp:K" (names in any case).</summary>
    /// <exception cref="FormatException">Not one of the forms, or K out of range.</exception>
    public static PriorSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split(':');
        string? name = Enum.GetNames<PriorKind>().FirstOrDefault(n => string.Equals(n, parts[0].Trim(), StringComparison.OrdinalIgnoreCase));
        if (parts.Length > 2 || name is null) throw new FormatException($"'{text}' is not a prior; write {Forms}.");
        PriorKind kind = Enum.Parse<PriorKind>(name);
        int components = 0;
        if (parts.Length == 2 && !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out components))
            throw new FormatException($"'{text}': the component count '{parts[1]}' is not a whole number; write {Forms}.");
        if (kind != PriorKind.Standard && parts.Length == 1) throw new FormatException($"'{text}': say how many components, e.g. {kind}:10.");
        var spec = new PriorSpec(kind, components);
        try { spec.Validate(); }
        catch (ArgumentException e) { throw new FormatException($"'{text}': {e.Message.Split(" (Parameter")[0]}", e); }
        return spec;
    }

    /// <summary>Builds the prior on <paramref name="latentDimensions"/> dimensions for a model whose examples have <paramref name="inputShape"/>.</summary>
    public Prior Build(long latentDimensions, IReadOnlyList<long> inputShape)
    {
        Validate();
        return Kind switch
        {
            PriorKind.Standard => new StandardNormalPrior(latentDimensions),
            PriorKind.Mixture => new MixturePrior(latentDimensions, Components),
            _ => new VampPrior(latentDimensions, Components, inputShape),
        };
    }

    /// <inheritdoc />
    public override string ToString() => IsStandard ? "Standard" : string.Create(CultureInfo.InvariantCulture, $"{Kind}:{Components}");
}

/// <summary>Reads and writes a <see cref="PriorSpec"/> as its text.</summary>
public sealed class PriorSpecJsonConverter : JsonConverter<PriorSpec>
{
    /// <inheritdoc />
    public override PriorSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"A prior is written as text ({PriorSpec.Forms}).");
        try { return PriorSpec.Parse(reader.GetString()!); }
        catch (FormatException e) { throw new JsonException(e.Message, e); }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, PriorSpec value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
