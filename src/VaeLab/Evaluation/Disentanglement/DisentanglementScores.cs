using VaeLab.Models;

namespace VaeLab.Evaluation.Disentanglement;

/// <summary>
/// The three disentanglement scores of one representation on a factor grid, with what a reader needs to interpret them.
/// </summary>
/// <param name="Mig">Mutual Information Gap, in [0, 1].</param>
/// <param name="FactorVaeScore">FactorVAE score (held-out majority-vote accuracy), in [0, 1]; chance is about 1 / factors.</param>
/// <param name="BetaVaeScore">β-VAE score (held-out linear-classifier accuracy), in [0, 1]; chance is about 1 / factors.</param>
/// <param name="FactorNames">The factors, in the order of the matrices' columns.</param>
/// <param name="MutualInformationNats">I(latent j; factor k), nats, [latent][factor].</param>
/// <param name="FactorEntropyNats">H(factor k), nats: MI divided by it is the normalised information.</param>
/// <param name="ActiveDimensions">Latents the FactorVAE score kept (not collapsed).</param>
/// <param name="Options">The settings they were computed with.</param>
public sealed record DisentanglementScores(
    double Mig,
    double FactorVaeScore,
    double BetaVaeScore,
    IReadOnlyList<string> FactorNames,
    double[][] MutualInformationNats,
    double[] FactorEntropyNats,
    int ActiveDimensions,
    DisentanglementOptions Options)
{
    /// <summary>Computes MIG, the FactorVAE score and the β-VAE score of a representation.</summary>
    public static DisentanglementScores Compute(GridRepresentation representation, DisentanglementOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(representation);
        options ??= new DisentanglementOptions();
        MigResult mig = MutualInformationGap.Compute(representation, options);
        FactorVaeResult factorVae = Disentanglement.FactorVaeScore.Compute(representation, options);
        BetaVaeResult betaVae = Disentanglement.BetaVaeScore.Compute(representation, options);
        return new DisentanglementScores(mig.Mig, factorVae.EvalAccuracy, betaVae.EvalAccuracy, representation.Grid.Names,
            mig.MutualInformationNats, mig.FactorEntropyNats, factorVae.ActiveDimensions, options);
    }

    /// <summary>The scores of a trained model's encoder means on <see cref="Data.Synthetic.ShapesGrid"/>.</summary>
    public static DisentanglementScores Compute(VariationalAutoencoder model, DisentanglementOptions? options = null)
    {
        using GridRepresentation representation = GridRepresentation.EncoderMeans(model);
        return Compute(representation, options);
    }

    /// <summary>I(latent; factor) / H(factor), [latent][factor]: 1 where a latent determines a factor.</summary>
    public double[][] NormalisedMutualInformation() =>
        MutualInformationNats.Select(row => row.Select((v, k) => FactorEntropyNats[k] > 0 ? v / FactorEntropyNats[k] : 0).ToArray()).ToArray();

    /// <summary>
    /// The latents ordered by the factor each captures best: for each factor in turn, its most informative latent not yet
    /// taken; then the remaining latents by decreasing information. For traversals sorted by factor.
    /// </summary>
    public (int Latent, string? Factor)[] LatentsByFactor()
    {
        double[][] normalised = NormalisedMutualInformation();
        var order = new List<(int, string?)>();
        var taken = new HashSet<int>();
        for (int k = 0; k < FactorNames.Count; k++)
        {
            int best = Enumerable.Range(0, normalised.Length).Where(j => !taken.Contains(j)).DefaultIfEmpty(-1).MaxBy(j => j < 0 ? -1 : normalised[j][k]);
            if (best < 0 || normalised[best][k] < 0.05) continue;   // no latent says anything about this factor
            taken.Add(best);
            order.Add((best, FactorNames[k]));
        }
        foreach (int j in Enumerable.Range(0, normalised.Length).Where(j => !taken.Contains(j)).OrderByDescending(j => normalised[j].Max()))
            order.Add((j, null));
        return order.ToArray();
    }
}
