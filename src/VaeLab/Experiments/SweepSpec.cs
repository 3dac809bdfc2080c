using System.Text.Json;
using System.Text.Json.Serialization;
using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using VaeLab.Models.Priors;

namespace VaeLab.Experiments;

/// <summary>Which data a sweep trains on.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SweepData>))]
public enum SweepData
{
    /// <summary>Fashion-MNIST as <see cref="FashionMnist.Load"/> resolves it (the full set if installed, else the embedded 10,000).</summary>
    FashionMnist,

    /// <summary>
    /// The synthetic 28×28 <see cref="Data.Synthetic.ShapesGrid"/>: 30,420 images of known factors, 1,000 held out for testing
    /// (trainExamples / testExamples set the split's sizes). Each run also gets MIG, the FactorVAE and β-VAE scores.
    /// </summary>
    Shapes,
}

/// <summary>
/// A sweep: the grid latent sizes × β values × seeds (and, optionally, likelihoods × architectures × epoch counts),
/// every run sharing the other settings. To compare datasets, run one sweep per dataset into the same results
/// folder: run ids differ, and every row says which data it used. Written in code or
/// read from a small JSON file (property names as here, camelCase accepted). Each grid point becomes a
/// <see cref="RunConfig"/> with a stable id computed from its settings.
/// </summary>
/// <param name="LatentSizes">Latent dimensions to try.</param>
/// <param name="Betas">β values to try.</param>
/// <param name="Seeds">Seeds to repeat each setting with.</param>
/// <param name="Epochs">Epochs per run.</param>
/// <param name="BatchSize">Batch size.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="HiddenSizes">MLP hidden widths.</param>
/// <param name="Architecture">Mlp or Conv.</param>
/// <param name="Likelihood">Decoder likelihood.</param>
/// <param name="Data">Which data.</param>
/// <param name="TrainExamples">Use only the first this many training examples (null: all).</param>
/// <param name="TestExamples">Evaluate on only the first this many test examples (null: all).</param>
/// <param name="ImportanceSamples">k of the importance-sampled log p(x) (0: skip it).</param>
/// <param name="DataDirectory">A folder of MNIST-format files to use instead of Fashion-MNIST's resolution.</param>
/// <param name="Likelihoods">Likelihoods to try as a further grid axis (null: just <paramref name="Likelihood"/>).</param>
/// <param name="Architectures">Architectures to try as a further grid axis (null: just <paramref name="Architecture"/>).</param>
/// <param name="EpochCounts">Epoch counts to try as a further grid axis (null: just <paramref name="Epochs"/>).</param>
/// <param name="GapExamples">Decompose the inference gap of each run on its first this many test examples (0: skip; <c>--gap</c>).</param>
/// <param name="QuickGap">Use <see cref="VaeLab.Evaluation.Inference.GapOptions.Quick"/> for the gap instead of the full defaults.</param>
/// <param name="Posterior">The posterior family ("Diagonal", "FullCovariance", "Planar:K", "Iaf:K"; null: Diagonal).</param>
/// <param name="Posteriors">Posterior families to try as a further grid axis (null: just <paramref name="Posterior"/>).</param>
/// <param name="Prior">The prior ("Standard", "Mixture:K", "Vamp:K"; null: Standard).</param>
/// <param name="Priors">Priors to try as a further grid axis (null: just <paramref name="Prior"/>).</param>
public sealed record SweepSpec(
    int[] LatentSizes,
    double[] Betas,
    long[] Seeds,
    int Epochs = 5,
    int BatchSize = 128,
    double LearningRate = 1e-3,
    int[]? HiddenSizes = null,
    Architecture Architecture = Architecture.Mlp,
    LikelihoodKind Likelihood = LikelihoodKind.Bernoulli,
    SweepData Data = SweepData.FashionMnist,
    int? TrainExamples = null,
    int? TestExamples = null,
    int ImportanceSamples = 100,
    string? DataDirectory = null,
    LikelihoodKind[]? Likelihoods = null,
    Architecture[]? Architectures = null,
    int[]? EpochCounts = null,
    int GapExamples = 0,
    bool QuickGap = false,
    PosteriorSpec? Posterior = null,
    PosteriorSpec[]? Posteriors = null,
    PriorSpec? Prior = null,
    PriorSpec[]? Priors = null)
{
    static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true, WriteIndented = true, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Every grid point, in a fixed order (epochs, architecture, likelihood, posterior, prior, latent size, β, seed).</summary>
    /// <exception cref="ArgumentException">An empty or invalid axis, named.</exception>
    public IReadOnlyList<RunConfig> Configurations()
    {
        Validate();
        return (from epochs in EpochCounts ?? [Epochs]
                from architecture in Architectures ?? [Architecture]
                from likelihood in Likelihoods ?? [Likelihood]
                from posterior in Posteriors ?? [Posterior ?? PosteriorSpec.Diagonal]
                from prior in Priors ?? [Prior ?? PriorSpec.Standard]
                from latent in LatentSizes
                from beta in Betas
                from seed in Seeds
                select new RunConfig(latent, beta, seed, epochs, BatchSize, LearningRate, HiddenSizes ?? [400], architecture, likelihood,
                    Data, TrainExamples, TestExamples, ImportanceSamples, DataDirectory)
                { Posterior = posterior, Prior = prior, GapExamples = GapExamples, QuickGap = GapExamples > 0 && QuickGap }).ToArray();
    }

    /// <summary>Checks every setting and names the first bad one.</summary>
    public void Validate()
    {
        if (LatentSizes is null || LatentSizes.Length == 0 || LatentSizes.Any(d => d < 1))
            throw new ArgumentException("latentSizes: give at least one latent size, each at least 1.", nameof(LatentSizes));
        if (Betas is null || Betas.Length == 0 || Betas.Any(b => !(b >= 0)))
            throw new ArgumentException("betas: give at least one β, each a non-negative number.", nameof(Betas));
        if (Seeds is null || Seeds.Length == 0)
            throw new ArgumentException("seeds: give at least one seed.", nameof(Seeds));
        if (Epochs < 1) throw new ArgumentException($"epochs: must be at least 1, got {Epochs}.", nameof(Epochs));
        if (BatchSize < 1) throw new ArgumentException($"batchSize: must be at least 1, got {BatchSize}.", nameof(BatchSize));
        if (!(LearningRate > 0)) throw new ArgumentException($"learningRate: must be positive, got {LearningRate}.", nameof(LearningRate));
        if (TrainExamples is < 2 || TestExamples is < 1) throw new ArgumentException("trainExamples / testExamples: too few examples.", nameof(TrainExamples));
        if (Likelihoods is { Length: 0 } || Architectures is { Length: 0 } || EpochCounts is { Length: 0 })
            throw new ArgumentException("likelihoods / architectures / epochCounts: leave out, or give at least one value.", nameof(Likelihoods));
        if (Posteriors is { Length: 0 })
            throw new ArgumentException("posteriors: leave out, or give at least one family.", nameof(Posteriors));
        foreach (PosteriorSpec posterior in Posteriors ?? (Posterior is null ? [] : [Posterior]))
            if (posterior is null) throw new ArgumentException("posteriors: a family is missing (null).", nameof(Posteriors));
            else
                try { foreach (int latent in LatentSizes) posterior.Validate(latent); }
                catch (ArgumentException e) { throw new ArgumentException($"posterior '{posterior}': {e.Message.Split(" (Parameter")[0]}", nameof(Posteriors), e); }
        if (Priors is { Length: 0 }) throw new ArgumentException("priors: leave out, or give at least one prior.", nameof(Priors));
        foreach (PriorSpec prior in Priors ?? (Prior is null ? [] : [Prior]))
        {
            if (prior is null) throw new ArgumentException("priors: a prior is missing (null).", nameof(Priors));
            foreach (PosteriorSpec posterior in Posteriors ?? [Posterior ?? PosteriorSpec.Diagonal])
                if (prior.Kind == PriorKind.Vamp && posterior.Kind is not (PosteriorKind.Diagonal or PosteriorKind.FullCovariance))
                    throw new ArgumentException($"prior '{prior}' with posterior '{posterior}': a VampPrior needs log q(z|u) at any z, exactly; use Diagonal or FullCovariance.", nameof(Priors));
        }
        if (EpochCounts is not null && EpochCounts.Any(e => e < 1))
            throw new ArgumentException("epochCounts: each must be at least 1.", nameof(EpochCounts));
        if (ImportanceSamples < 0) throw new ArgumentException("importanceSamples: must not be negative.", nameof(ImportanceSamples));
        if (GapExamples < 0) throw new ArgumentException("gapExamples: must not be negative (0 skips the inference gap).", nameof(GapExamples));
    }

    /// <summary>Reads a spec from a JSON file, with errors that name the file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">Not valid JSON for a sweep, or invalid settings.</exception>
    public static SweepSpec Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Sweep file '{path}' does not exist.", path);
        try
        {
            string text = File.ReadAllText(path);
            RefuseUnknownFields(text);
            SweepSpec spec = JsonSerializer.Deserialize<SweepSpec>(text, Json)
                ?? throw new FormatException("it holds null, not a sweep.");
            spec.Validate();
            return spec;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException or FormatException)
        {
            throw new FormatException($"Sweep file '{path}': {e.Message}", e);
        }
    }

    /// <summary>The names a spec file may use (camelCase; matched ignoring case).</summary>
    public static IReadOnlyList<string> FieldNames { get; } = typeof(SweepSpec).GetConstructors()[0].GetParameters()
        .Select(p => char.ToLowerInvariant(p.Name![0]) + p.Name[1..]).ToArray();

    // A misspelt field would otherwise be ignored, and the sweep would run its default silently ("epoch": 1 trains 5 epochs).
    static void RefuseUnknownFields(string text)
    {
        using JsonDocument document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException($"expected a JSON object of sweep settings, found {document.RootElement.ValueKind}.");
        foreach (JsonProperty property in document.RootElement.EnumerateObject())
            if (!FieldNames.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
            {
                string nearest = FieldNames.MinBy(known => EditDistance(property.Name.ToLowerInvariant(), known.ToLowerInvariant()))!;
                throw new FormatException($"unknown field '{property.Name}' (did you mean '{nearest}'?). Known fields: {string.Join(", ", FieldNames)}.");
            }
    }

    static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }

    /// <summary>The spec as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
