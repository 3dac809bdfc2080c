namespace VaeLab.Evaluation.Inference;

/// <summary>
/// Every figure of a <see cref="GapDecomposition"/> for each example, in the data's order, nats: what the means and standard
/// errors of the decomposition are taken over (a histogram of the per-example gaps, or a check of their arithmetic).
/// </summary>
/// <param name="ImportanceSampled">log p(x) by importance sampling.</param>
/// <param name="Ais">log p(x) by forward AIS.</param>
/// <param name="LogLikelihood">log p̂(x): the per-example values of the estimator the decomposition chose.</param>
/// <param name="ElboEncoder">L[q].</param>
/// <param name="ElboLocal">L[q*].</param>
/// <param name="ApproximationGap">log p̂ − L[q*].</param>
/// <param name="AmortisationGap">L[q*] − L[q].</param>
/// <param name="InferenceGap">log p̂ − L[q].</param>
public sealed record GapPerExample(
    double[] ImportanceSampled,
    double[] Ais,
    double[] LogLikelihood,
    double[] ElboEncoder,
    double[] ElboLocal,
    double[] ApproximationGap,
    double[] AmortisationGap,
    double[] InferenceGap);
