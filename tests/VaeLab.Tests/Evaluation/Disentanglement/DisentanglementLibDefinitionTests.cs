using VaeLab.Data.Synthetic;
using VaeLab.Evaluation.Disentanglement;

namespace VaeLab.Tests.Evaluation.Disentanglement;

/// <summary>
/// The two scores pinned to disentanglement_lib's definitions on representations where a plausible variant gives another
/// number: the FactorVAE vote compares within-batch variances divided by the global variance (not raw, not divided by the
/// standard deviation), and the β-VAE score is the classifier's accuracy on held-out examples, not on the ones it was fitted to.
/// </summary>
public class DisentanglementLibDefinitionTests
{
    static readonly FactorGrid Grid = new(["a", "b"], [10, 10]);

    // Codes of pure noise need many points per factor value: on a small grid the noise of each row and column of the grid is
    // itself a pattern a classifier can learn.
    static readonly FactorGrid Large = new(["a", "b"], [60, 60]);

    [Fact]
    public void TheFactorVaeVoteScalesEachLatentByItsGlobalVariance()
    {
        // z₀ = 0.03 a (global sd 0.086, kept), z₁ = 10 b + 10 a. With a fixed z₀ is constant; with b fixed z₀ varies by
        // 0.0009 Var(a) and z₁ by 100 Var(a). Divided by the global variances (0.0009 Var(a) and 100(Var(a) + Var(b))) the
        // smallest is z₁'s (≈ ½ against ≈ 1): z₀ votes for a, z₁ for b, score 1. Raw variances, or variances divided by
        // standard deviations, give z₀ every vote: score ≈ ½.
        using Tensor points = Grid.Enumerate().to_type(ScalarType.Float64);
        using Tensor a = points.select(1, 0), b = points.select(1, 1);
        using Tensor codes = stack([a * 0.03, b * 10 + a * 10], 1);
        using var representation = new GridRepresentation(Grid, codes);
        FactorVaeResult result = FactorVaeScore.Compute(representation, DisentanglementOptions.Quick with { Seed = 5 });
        Assert.Equal(2, result.ActiveDimensions);
        Assert.Equal(1.0, result.EvalAccuracy);
        Assert.Equal(1.0, result.TrainAccuracy);
        Assert.All(result.Votes[0].Skip(1), v => Assert.Equal(0, v));   // factor a: every vote to z₀
        Assert.Equal(0, result.Votes[1][0]);                             // factor b: none to z₀
    }

    [Fact]
    public void TheBetaVaeScoreIsTheAccuracyOnHeldOutExamples()
    {
        // 40 latents of noise, independent of the factors: a classifier fitted to 60 examples learns them by heart, and only
        // held-out examples show chance (½ with two factors).
        using var generator = new Generator(11);
        using Tensor codes = randn([Large.Count, 40], ScalarType.Float64, generator: generator);
        using var representation = new GridRepresentation(Large, codes);
        var options = DisentanglementOptions.Quick with { TrainVotes = 60, EvalVotes = 2_000, Seed = 2 };
        BetaVaeResult result = BetaVaeScore.Compute(representation, options);
        Assert.InRange(result.EvalAccuracy, 0.5 - 0.05, 0.5 + 0.05);
        Assert.True(result.TrainAccuracy > 0.8, $"train accuracy {result.TrainAccuracy}: the fitted examples should be learned by heart");
        DisentanglementScores scores = DisentanglementScores.Compute(representation, options);
        Assert.Equal(result.EvalAccuracy, scores.BetaVaeScore);
    }

    [Fact]
    public void TheReportedFactorVaeScoreIsTheHeldOutAccuracy()
    {
        using var generator = new Generator(12);
        using Tensor codes = randn([Large.Count, 6], ScalarType.Float64, generator: generator);
        using var representation = new GridRepresentation(Large, codes);
        var options = DisentanglementOptions.Quick with { TrainVotes = 30, EvalVotes = 2_000, Seed = 4 };
        FactorVaeResult result = FactorVaeScore.Compute(representation, options);
        DisentanglementScores scores = DisentanglementScores.Compute(representation, options);
        Assert.Equal(result.EvalAccuracy, scores.FactorVaeScore);
        Assert.InRange(result.EvalAccuracy, 0.5 - 0.06, 0.5 + 0.06);
    }
}
