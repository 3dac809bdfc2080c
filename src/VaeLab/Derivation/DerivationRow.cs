namespace VaeLab.Derivation;

/// <summary>
/// One numerical check of one step of the ELBO derivation: two sides that the maths says are equal (or
/// ordered), computed independently, and whether they agree within the stated tolerance.
/// </summary>
/// <param name="Check">The check it belongs to, e.g. "1 linear-Gaussian (exact)".</param>
/// <param name="Step">The step of the derivation, e.g. "log p(x) − ELBO = KL(q ‖ p(z|x))".</param>
/// <param name="Left">The left side's value (nats unless the step says otherwise).</param>
/// <param name="Right">The right side's value.</param>
/// <param name="Difference">|Left − Right| (for an inequality: how far it is violated, 0 when it holds).</param>
/// <param name="Tolerance">The largest difference that passes: exact round-off, or k standard errors.</param>
/// <param name="Method">How each side was computed.</param>
/// <param name="Pass">Whether the difference is within the tolerance.</param>
public sealed record DerivationRow(string Check, string Step, double Left, double Right, double Difference, double Tolerance, string Method, bool Pass)
{
    /// <summary>
    /// The row's stable id, "check.row" (e.g. "5.3": check 5's third row), given by <see cref="DerivationSuite"/> in the order
    /// the check lists its rows on the library; `vaelab check --only 5.3`, the tests and docs/derivation.md use it. Empty for
    /// rows made outside the suite.
    /// </summary>
    public string Id { get; init; } = "";

    /// <summary>An equality row: passes when |left − right| ≤ tolerance (NaN never passes).</summary>
    public static DerivationRow Equal(string check, string step, double left, double right, double tolerance, string method)
    {
        double difference = Math.Abs(left - right);
        return new(check, step, left, right, difference, tolerance, method, difference <= tolerance);
    }

    /// <summary>An inequality row left ≤ right (up to tolerance): the difference is max(0, left − right).</summary>
    public static DerivationRow AtMost(string check, string step, double left, double right, double tolerance, string method)
    {
        double violation = Math.Max(0, left - right);
        return new(check, step, left, right, double.IsNaN(left - right) ? double.NaN : violation, tolerance, method, violation <= tolerance && !double.IsNaN(left - right));
    }
}
