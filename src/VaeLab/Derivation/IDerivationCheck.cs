namespace VaeLab.Derivation;

/// <summary>
/// One check of the derivation: a number (its place in docs/derivation.md and in `vaelab check --only`), a name, and its rows,
/// each pitting the library's code against a computation written another way. <see cref="DerivationChecks.All"/> lists them.
/// </summary>
public interface IDerivationCheck
{
    /// <summary>The check's number, 1 to <see cref="DerivationChecks.Count"/>.</summary>
    int Number { get; }

    /// <summary>The check's name as the table shows it, e.g. "1 linear-Gaussian VAE (exact)".</summary>
    string Name { get; }

    /// <summary>Runs the check on <see cref="CheckContext.Components"/>; rows in a fixed order (their ids follow it).</summary>
    IReadOnlyList<DerivationRow> Rows(CheckContext context);
}
