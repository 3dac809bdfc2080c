namespace VaeLab.Evaluation.Inference;

/// <summary>Settings of an inference-gap decomposition (<see cref="InferenceGap.Decompose"/>).</summary>
/// <param name="ImportanceSamples">k of the importance-sampled log p(x) (5,000 as in Burda et al.).</param>
/// <param name="Ais">AIS settings (null: <see cref="AisOptions"/>' defaults).</param>
/// <param name="Local">Local optimisation settings (null: <see cref="LocalPosteriorOptions"/>' defaults).</param>
public sealed record GapOptions(int ImportanceSamples = 5000, AisOptions? Ais = null, LocalPosteriorOptions? Local = null)
{
    /// <summary>Small settings for tests, sweeps' quick mode and notebooks (minutes become seconds; the gaps are rougher).</summary>
    public static GapOptions Quick { get; } = new(500, AisOptions.Quick, LocalPosteriorOptions.Quick);

    /// <summary>The AIS settings in force.</summary>
    public AisOptions AisSettings => Ais ?? new AisOptions();

    /// <summary>The local optimisation settings in force.</summary>
    public LocalPosteriorOptions LocalSettings => Local ?? new LocalPosteriorOptions();

    /// <summary>Throws on settings that cannot run.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The setting that is out of range, named.</exception>
    public void Validate()
    {
        if (ImportanceSamples < 1) throw new ArgumentOutOfRangeException(nameof(ImportanceSamples), ImportanceSamples, "Importance sampling needs k ≥ 1.");
        AisSettings.Validate();
        LocalSettings.Validate();
    }
}
