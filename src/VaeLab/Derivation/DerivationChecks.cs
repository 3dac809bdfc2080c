namespace VaeLab.Derivation;

/// <summary>The registry of the derivation's checks, in the order docs/derivation.md gives them.</summary>
public static class DerivationChecks
{
    /// <summary>Every check, numbered 1 to <see cref="Count"/>.</summary>
    public static IReadOnlyList<IDerivationCheck> All { get; } =
    [
        new LinearGaussianCheck(),
        new QuadratureCheck(),
        new ImportanceSamplingCheck(),
        new CostTermsCheck(),
        new ReparameterisationCheck(),
        new DiscretizationCheck(),
        new InferenceGapCheck(),
        new ReportedFiguresCheck(),
        new EstimatorInternalsCheck(),
        new PosteriorFamiliesCheck(),
        new PriorsCheck(),
        new ObjectivesCheck(),
    ];

    /// <summary>The number of checks.</summary>
    public static int Count => All.Count;
}
