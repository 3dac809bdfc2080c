using VaeLab.Data.Synthetic;
using VaeLab.Evaluation.Disentanglement;

namespace VaeLab.Tests.Evaluation.Disentanglement;

/// <summary>
/// The metrics' own oracles (Chen et al. 2018; Kim and Mnih 2018; Higgins et al. 2017): the true factors as the
/// representation are perfectly disentangled; constant, duplicated and random codes are not; a permutation of the
/// latents changes nothing.
/// </summary>
public class DisentanglementOraclesTests
{
    static readonly FactorGrid Grid = new(["a", "b", "c", "d"], [4, 7, 10, 20]);

    static readonly DisentanglementOptions Options = DisentanglementOptions.Quick with { Seed = 3 };

    static GridRepresentation Factors(double scale = 1)
    {
        using Tensor points = Grid.Enumerate();
        using Tensor codes = points.to_type(ScalarType.Float64) * scale;
        return new GridRepresentation(Grid, codes);
    }

    [Fact]
    public void TheFactorsThemselvesScorePerfectly()
    {
        using GridRepresentation identity = Factors();
        DisentanglementScores scores = DisentanglementScores.Compute(identity, Options);
        Assert.InRange(scores.Mig, 0.9, 1.0);
        Assert.Equal(1.0, scores.FactorVaeScore);
        Assert.InRange(scores.BetaVaeScore, 0.99, 1.0);
        Assert.Equal(4, scores.ActiveDimensions);
        // Each latent carries its own factor's whole entropy (every value has its own bin) and about nothing of the others.
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(scores.FactorEntropyNats[k], scores.MutualInformationNats[k][k], 12);
            Assert.InRange(scores.FactorEntropyNats[k], Math.Log(Grid.Sizes[k]) - 0.01, Math.Log(Grid.Sizes[k]));
            for (int j = 0; j < 4; j++)
                if (j != k) Assert.InRange(scores.MutualInformationNats[j][k], 0, 0.05);
        }
        Assert.Equal(new[] { (0, (string?)"a"), (1, "b"), (2, "c"), (3, "d") }, scores.LatentsByFactor());
    }

    [Fact]
    public void APermutedAndRescaledIdentityScoresLikeTheIdentity()
    {
        using GridRepresentation identity = Factors();
        using Tensor points = Grid.Enumerate();
        int[] permutation = [2, 0, 3, 1];
        using Tensor codes = points.index_select(1, tensor(permutation.Select(p => (long)p).ToArray())).to_type(ScalarType.Float64) * tensor(new[] { 3.0, -0.5, 10, 1 });
        using var permuted = new GridRepresentation(Grid, codes);
        DisentanglementScores a = DisentanglementScores.Compute(identity, Options), b = DisentanglementScores.Compute(permuted, Options);
        Assert.Equal(a.Mig, b.Mig, 12);
        Assert.Equal(a.FactorVaeScore, b.FactorVaeScore);
        Assert.Equal(a.BetaVaeScore, b.BetaVaeScore, 3);
        for (int j = 0; j < 4; j++)
            Assert.Equal(a.MutualInformationNats[permutation[j]], b.MutualInformationNats[j]);
        Assert.Equal(new[] { (1, (string?)"a"), (3, "b"), (0, "c"), (2, "d") }, b.LatentsByFactor());
    }

    [Fact]
    public void AConstantRepresentationCarriesNoInformationAndIsPrunedAway()
    {
        using Tensor codes = full(Grid.Count, 3, 0.7, dtype: ScalarType.Float64);
        using var constant = new GridRepresentation(Grid, codes);
        DisentanglementScores scores = DisentanglementScores.Compute(constant, Options);
        Assert.InRange(scores.Mig, 0, 0.1);
        Assert.Equal(0, scores.Mig);
        Assert.Equal(0, scores.ActiveDimensions);
        Assert.Equal(0, scores.FactorVaeScore);
        Assert.InRange(scores.BetaVaeScore, 0, 0.35);   // every feature is 0: the classifier can only guess
    }

    [Fact]
    public void DuplicatedLatentsLeaveNoGap()
    {
        using Tensor points = Grid.Enumerate();
        using Tensor codes = cat([points, points], 1).to_type(ScalarType.Float64);
        using var duplicated = new GridRepresentation(Grid, codes);
        MigResult mig = MutualInformationGap.Compute(duplicated, Options);
        Assert.InRange(mig.Mig, 0, 0.1);
        Assert.Equal(0, mig.Mig);
    }

    [Fact]
    public void RandomCodesScoreNearChance()
    {
        using var generator = new Generator(11);
        using Tensor codes = randn([Grid.Count, 6], dtype: ScalarType.Float64, generator: generator);
        using var noise = new GridRepresentation(Grid, codes);
        DisentanglementScores scores = DisentanglementScores.Compute(noise, Options);
        Assert.InRange(scores.Mig, 0, 0.05);
        Assert.InRange(scores.FactorVaeScore, 0, 0.4);   // chance is 1/4; a 6-latent majority vote fits a little noise
        Assert.InRange(scores.BetaVaeScore, 0, 0.4);
        Assert.Equal(6, scores.ActiveDimensions);
    }

    [Fact]
    public void OneInformativeLatentAmongNoiseIsFoundByEveryScore()
    {
        // Latent 1 is factor c; the others are noise. MIG sees one factor of four; FactorVAE and β-VAE identify c only.
        using var generator = new Generator(12);
        using Tensor points = Grid.Enumerate();
        using Tensor noise = randn([Grid.Count, 3], dtype: ScalarType.Float64, generator: generator);
        using Tensor codes = cat([noise.narrow(1, 0, 1), points.narrow(1, 2, 1).to_type(ScalarType.Float64), noise.narrow(1, 1, 2)], 1);
        using var representation = new GridRepresentation(Grid, codes);
        DisentanglementScores scores = DisentanglementScores.Compute(representation, Options);
        Assert.InRange(scores.Mig, 0.2, 0.3);   // (≈1 + ≈0 + ≈0 + ≈0) / 4
        FactorVaeResult factorVae = FactorVaeScore.Compute(representation, Options);
        Assert.True(factorVae.Votes[2][1] > 0.9 * factorVae.Votes[2].Sum(), "fixing factor c must almost always make latent 1 the quietest");
        Assert.InRange(factorVae.EvalAccuracy, 0.3, 0.6);
    }

    [Fact]
    public void SameSeedSameScoresAndAnotherSeedOtherDraws()
    {
        using var generator = new Generator(13);
        using Tensor codes = randn([Grid.Count, 5], dtype: ScalarType.Float64, generator: generator);
        using var representation = new GridRepresentation(Grid, codes);
        DisentanglementScores a = DisentanglementScores.Compute(representation, Options);
        DisentanglementScores b = DisentanglementScores.Compute(representation, Options);
        DisentanglementScores c = DisentanglementScores.Compute(representation, Options with { Seed = 4 });
        Assert.Equal((a.Mig, a.FactorVaeScore, a.BetaVaeScore), (b.Mig, b.FactorVaeScore, b.BetaVaeScore));
        Assert.NotEqual(a.Mig, c.Mig);
    }

    [Fact]
    public void BadInputIsRefusedWithItsName()
    {
        using Tensor wrongRows = zeros(10, 3, dtype: ScalarType.Float64);
        var e = Assert.Throws<ArgumentException>(() => new GridRepresentation(Grid, wrongRows));
        Assert.Contains("[5600, D", e.Message);
        using Tensor nan = full(Grid.Count, 2, double.NaN, dtype: ScalarType.Float64);
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => new GridRepresentation(Grid, nan)).Message);
        using GridRepresentation identity = Factors();
        Assert.Contains("BatchSize", Assert.Throws<ArgumentException>(() => FactorVaeScore.Compute(identity, Options with { BatchSize = 1 })).Message);
        Assert.Contains("MigBins", Assert.Throws<ArgumentException>(() => MutualInformationGap.Compute(identity, Options with { MigBins = 1 })).Message);
    }
}
