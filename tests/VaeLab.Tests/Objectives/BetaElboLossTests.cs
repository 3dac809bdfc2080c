using VaeLab.Objectives;

namespace VaeLab.Tests.Objectives;

public class BetaElboLossTests
{
    [Fact]
    public void TheTensorAndTheSummedFormsAreOneFormula()
    {
        using var scope = torch.NewDisposeScope();
        Tensor reconstruction = torch.tensor(new[] { -250.5, -231.25, -266.0 }), kl = torch.tensor(new[] { 15.5, 12.0, 18.25 });
        foreach (double beta in new[] { 0.0, 1.0, 1.7, 4.0 })
        {
            double byHand = (beta * (15.5 + 12.0 + 18.25) - (-250.5 - 231.25 - 266.0)) / 3;
            Assert.Equal(byHand, BetaElboLoss.Mean(reconstruction, kl, beta).item<double>(), 12);
            Assert.Equal(byHand, BetaElboLoss.Mean(-250.5 - 231.25 - 266.0, 15.5 + 12.0 + 18.25, beta, 3), 12);
            Assert.Equal(beta / 3, BetaElboLoss.KlWeight(beta, 3), 15);
        }
        // β = 1 is −ELBO: the mean of KL − E_q[log p(x|z)].
        Assert.Equal(-(reconstruction - kl).mean().item<double>(), BetaElboLoss.Mean(reconstruction, kl, 1).item<double>(), 12);
    }
}
