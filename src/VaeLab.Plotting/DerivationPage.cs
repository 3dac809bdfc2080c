using VaeLab.Derivation;

namespace VaeLab.Plotting;

/// <summary>The derivation checks as one self-contained HTML page: the table, then the three figures.</summary>
public static class DerivationPage
{
    /// <summary>Builds the page for <paramref name="report"/> (figures only when the report carries their data).</summary>
    public static HtmlPage Build(DerivationReport report)
    {
        var page = new HtmlPage("ELBO derivation checks")
            .Paragraph("Each row compares two sides of one step of log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)), computed independently in float64. Nats per example unless the step says otherwise.")
            .Raw(report.ToHtmlTable());
        if (report.Figures is DerivationFigures figures)
        {
            page.Heading("The regularisation cost: Monte Carlo KL converging to the analytic value")
                .Chart(DerivationCharts.KlConvergence(figures.KlAnalyticNats, figures.KlConvergence))
                .Heading("ELBO, IWAE_k and log p(x) on the linear-Gaussian model")
                .Chart(DerivationCharts.Bounds(figures.Bounds))
                .Heading("True posterior and q(z|x) for a trained 2-D latent VAE")
                .Chart(DerivationCharts.Posterior(figures.Posterior));
        }
        return page;
    }
}
