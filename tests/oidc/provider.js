// A real OpenID provider on loopback for the SSO tests: panva's certified oidc-provider, run by
// Node. Settings from the environment (tests/oidc/launcher.py starts it):
//   PORT             where it listens (127.0.0.1)
//   ISSUER           its issuer (default http://127.0.0.1:PORT; a test proxy in front sets its own)
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URIS, POST_LOGOUT_REDIRECT_URIS (comma-separated)
//   ACCOUNTS         JSON: {"login": {"email": ..., "fiscal_number": ..., "amr": [...]}, ...}
//   CLOCK_OFFSET     seconds added to the clock of its token endpoint (negative: the ID tokens
//                    it issues are already expired; its login pages and cookies keep real time)
// Logins go through the provider's own login page (devInteractions): any password is accepted
// for a login listed in ACCOUNTS; consent is given once for the test client.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const offset = Number(process.env.CLOCK_OFFSET || 0) * 1000;
let shifted = false;
if (offset) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + (shifted ? offset : 0);
}

const port = Number(process.env.PORT);
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');
const split = (value) => (value || '').split(',').filter(Boolean);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: split(process.env.REDIRECT_URIS),
    post_logout_redirect_uris: split(process.env.POST_LOGOUT_REDIRECT_URIS),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub', 'acr', 'amr'], // acr and amr: in the ID token whenever the login set them
    email: ['email', 'email_verified'],
    profile: ['name', 'fiscal_number'],
  },
  conformIdTokenClaims: false, // the claims travel in the ID token, as SATOSA sends them
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...account };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'fiscal_number']);
    await grant.save();
    return grant;
  },
  async extraTokenClaims() { return undefined; },
});
provider.proxy = true;
// The provider's own login page asks no second factor; an account listed with `acr` or `amr`
// logs in as if it had given one (SPID level 2, an OTP), so the ID token says so.
const interactionResult = provider.interactionResult.bind(provider);
provider.interactionResult = (req, res, result, options) => {
  const account = result && result.login ? accounts[result.login.accountId] : undefined;
  if (account) {
    if (account.acr) result.login.acr = account.acr;
    if (account.amr) result.login.amr = account.amr;
  }
  return interactionResult(req, res, result, options);
};
provider.use(async (ctx, next) => {
  shifted = ctx.path === '/token';
  try {
    await next();
  } finally {
    shifted = false;
  }
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
