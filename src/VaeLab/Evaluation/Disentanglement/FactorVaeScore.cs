using static TorchSharp.torch;

namespace VaeLab.Evaluation.Disentanglement;

/// <summary>The FactorVAE score and what it was computed from.</summary>
/// <param name="TrainAccuracy">The majority-vote classifier's accuracy on its own training votes.</param>
/// <param name="EvalAccuracy">Its accuracy on held-out votes: the score.</param>
/// <param name="ActiveDimensions">Latents kept (global standard deviation ≥ the prune threshold).</param>
/// <param name="Votes">Held-out votes, [factor][latent]: how often the latent of smallest scaled variance was that latent when that factor was fixed.</param>
public sealed record FactorVaeResult(double TrainAccuracy, double EvalAccuracy, int ActiveDimensions, int[][] Votes);

/// <summary>
/// The FactorVAE disentanglement score (Kim and Mnih 2018, "Disentangling by Factorising"), as disentanglement_lib computes it:
/// each latent scaled by its global standard deviation (unbiased variance over drawn points), collapsed latents pruned; in a
/// batch whose points share one factor, the kept latent with the smallest scaled variance votes for that factor; a majority
/// vote classifier (each latent predicts the factor it voted for most) is scored on held-out votes. 0 when every latent is pruned.
/// </summary>
public static class FactorVaeScore
{
    /// <summary>The score of a representation over its grid.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static FactorVaeResult Compute(GridRepresentation representation, DisentanglementOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(representation);
        options ??= new DisentanglementOptions();
        options.Validate();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)options.Seed + 1);
        int factors = representation.Grid.FactorCount;
        Tensor globalVariance = representation.Of(representation.Grid.Sample(options.VariancePoints, generator)).var(0, unbiased: true);
        Tensor active = globalVariance.sqrt() >= options.PruneThreshold;
        int activeCount = (int)active.sum().item<long>();
        if (activeCount == 0)
            return new FactorVaeResult(0, 0, 0, Enumerable.Range(0, factors).Select(_ => new int[representation.Dimensions]).ToArray());
        Tensor activeIndex = active.nonzero().view(-1);
        Tensor activeVariance = globalVariance.index_select(0, activeIndex);

        long[,] Votes(int batches)
        {
            var votes = new long[factors, activeCount];
            const int chunk = 1000;   // batches per gather: 1,000 × 64 × D float64 codes at a time
            for (int start = 0; start < batches; start += chunk)
            {
                using var chunkScope = NewDisposeScope();
                var (points, fixedFactor) = representation.Grid.SampleBatchesWithOneFactorFixed(Math.Min(chunk, batches - start), options.BatchSize, generator);
                Tensor codes = representation.Of(points).index_select(2, activeIndex);         // [batches, batch, active]
                Tensor smallest = (codes.var(1, unbiased: true) / activeVariance).argmin(1);     // [batches]
                long[] factor = fixedFactor.data<long>().ToArray(), latent = smallest.data<long>().ToArray();
                for (int b = 0; b < factor.Length; b++) votes[factor[b], latent[b]]++;
            }
            return votes;
        }

        long[,] train = Votes(options.TrainVotes);
        // Each kept latent predicts the factor it voted for most (the first such factor on ties, as numpy's argmax).
        int[] classifier = Enumerable.Range(0, activeCount).Select(j => Enumerable.Range(0, factors).MaxBy(k => (train[k, j], -k))).ToArray();
        double Accuracy(long[,] votes) =>
            (double)Enumerable.Range(0, activeCount).Sum(j => votes[classifier[j], j]) / Enumerable.Range(0, activeCount).Sum(j => Enumerable.Range(0, factors).Sum(k => votes[k, j]));
        long[,] eval = Votes(options.EvalVotes);

        int[] activeLatents = activeIndex.data<long>().Select(i => (int)i).ToArray();
        int[][] byLatent = Enumerable.Range(0, factors).Select(k =>
        {
            var row = new int[representation.Dimensions];
            for (int j = 0; j < activeCount; j++) row[activeLatents[j]] = (int)eval[k, j];
            return row;
        }).ToArray();
        return new FactorVaeResult(Accuracy(train), Accuracy(eval), activeCount, byLatent);
    }
}
