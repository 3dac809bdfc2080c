namespace VaeLab.Evaluation.Disentanglement;

/// <summary>
/// Settings of the disentanglement scores. The defaults are disentanglement_lib's (Locatello et al. 2019): MIG on 10,000
/// points in 20 bins; FactorVAE and β-VAE scores with batches of 64, 10,000 training and 5,000 evaluation votes (or
/// pairs-of-batches), 10,000 points for the global variances, latents with a standard deviation below 0.05 pruned.
/// </summary>
/// <param name="MigPoints">Points whose codes MIG discretises.</param>
/// <param name="MigBins">Equal-width bins per latent.</param>
/// <param name="BatchSize">Points per batch of the FactorVAE and β-VAE scores.</param>
/// <param name="TrainVotes">Batches that train the classifiers.</param>
/// <param name="EvalVotes">Held-out batches they are scored on.</param>
/// <param name="VariancePoints">Points of the FactorVAE score's global variance estimate.</param>
/// <param name="PruneThreshold">FactorVAE: latents whose global standard deviation is below this are collapsed and left out.</param>
/// <param name="Seed">Seed of every draw of grid points.</param>
public sealed record DisentanglementOptions(
    int MigPoints = 10_000,
    int MigBins = 20,
    int BatchSize = 64,
    int TrainVotes = 10_000,
    int EvalVotes = 5_000,
    int VariancePoints = 10_000,
    double PruneThreshold = 0.05,
    long Seed = 0)
{
    /// <summary>Small settings for tests and quick notebook runs (about a tenth of the draws).</summary>
    public static DisentanglementOptions Quick { get; } = new(MigPoints: 3_000, TrainVotes: 1_000, EvalVotes: 500, VariancePoints: 3_000);

    /// <summary>Checks every setting and names the first bad one.</summary>
    /// <exception cref="ArgumentException">A setting out of range.</exception>
    public void Validate()
    {
        if (MigPoints < 2) throw new ArgumentException($"MigPoints: at least 2 points, got {MigPoints}.", nameof(MigPoints));
        if (MigBins < 2) throw new ArgumentException($"MigBins: at least 2 bins, got {MigBins}.", nameof(MigBins));
        if (BatchSize < 2) throw new ArgumentException($"BatchSize: a variance needs at least 2 points per batch, got {BatchSize}.", nameof(BatchSize));
        if (TrainVotes < 1 || EvalVotes < 1) throw new ArgumentException($"TrainVotes / EvalVotes: at least 1 each, got {TrainVotes} / {EvalVotes}.", nameof(TrainVotes));
        if (VariancePoints < 2) throw new ArgumentException($"VariancePoints: at least 2 points, got {VariancePoints}.", nameof(VariancePoints));
        if (!(PruneThreshold >= 0)) throw new ArgumentException($"PruneThreshold: a non-negative standard deviation, got {PruneThreshold}.", nameof(PruneThreshold));
    }
}
