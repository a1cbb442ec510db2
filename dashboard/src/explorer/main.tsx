/**
 * The offline explorer: GraphiQL from npm, bundled by dashboard/build.ts and served by the gateway
 * at /explorer, so it works without internet. The schema docs come from introspection; the header
 * editor is pre-filled with the dashboard's token (same tab); the dashboard's operations are the
 * example tabs.
 */
import 'graphiql/style.css';
import './explorer.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';
import OPERATIONS from 'dashboard-operations';
import { EXAMPLE_VARIABLES } from '../examples';

const TOKEN_KEY = 'city-dashboard.token';
const token = sessionStorage.getItem(TOKEN_KEY);
// No token: no header (the anonymous public); sign in on the dashboard or add one here.
const headers = JSON.stringify(token ? { Authorization: `Bearer ${token}` } : {}, null, 2);
const fetcher = createGraphiQLFetcher({ url: `${location.origin}/graphql` });

const tabs = Object.entries(OPERATIONS).map(([name, query]) => ({
  query: `# ${name}: an operation of the dashboard (dashboard/operations)\n${query}`,
  variables: JSON.stringify(EXAMPLE_VARIABLES[name] ?? {}, null, 2),
  headers,
}));

function Explorer() {
  return (
    <GraphiQL fetcher={fetcher} defaultTabs={tabs} defaultHeaders={headers} defaultEditorToolsVisibility="variables" shouldPersistHeaders={false}>
      <GraphiQL.Logo>
        <a href="/" className="explorer-home">城市社区 GraphQL</a>
      </GraphiQL.Logo>
    </GraphiQL>
  );
}

createRoot(document.getElementById('explorer')!).render(<Explorer />);
