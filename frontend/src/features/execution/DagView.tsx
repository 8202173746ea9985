import { useQuery } from "@tanstack/react-query";
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo } from "react";
import { api, unwrap } from "../../api/client";
import type { Dag, DagEdge, DagNode, StatsCounts } from "../../api/types";
import { ErrorState, Loading } from "../../components/States";
import { count } from "../../lib/format";
import { useExecutionLive } from "./events";
import { liveEdgeCount } from "./dagCounts";
import { layoutDag, type Positioned } from "./layout";

type RouteNodeData = { route: DagNode; counts: StatsCounts };
type RouteFlowNode = Node<RouteNodeData, "route">;

const COUNT_FIELDS: [keyof StatsCounts, string][] = [
  ["received", "received"],
  ["processed", "processed"],
  ["failed", "failed"],
  ["filtered", "filtered"],
  ["in_flight", "in flight"],
];

const RouteNode = memo(function RouteNode({ data }: NodeProps<RouteFlowNode>) {
  const { route, counts } = data;
  const processors = route.processors ?? [];
  return (
    <div className={`dag-node kind-${route.kind}`} data-route={route.id}>
      {route.kind !== "source" && <Handle type="target" position={Position.Left} />}
      <div className="dag-node-title">
        <strong>{route.id}</strong>
        <span className="muted small">{route.kind}</span>
      </div>
      <div className="dag-node-steps small muted" title={processors.join(" → ")}>
        {route.adapter ? `${route.adapter} → ` : ""}
        {processors.join(" → ") || "—"}
      </div>
      <dl className="dag-counts">
        {COUNT_FIELDS.map(([field, label]) => (
          <div key={field} className={field === "failed" && counts.failed > 0 ? "danger" : undefined}>
            <dt>{label}</dt>
            <dd data-count={field}>{count(counts[field])}</dd>
          </div>
        ))}
      </dl>
      {counts.lost > 0 && (
        <p className="dag-node-lost small" data-count="lost" title="Lost when the server process died; a resume processes them.">
          {count(counts.lost)} lost
        </p>
      )}
      {route.kind !== "sink" && <Handle type="source" position={Position.Right} />}
    </div>
  );
});

const nodeTypes = { route: RouteNode };

/** The run's routes and edges, laid out by dagre, with live counts. */
export function DagView({ executionId }: { executionId: string }) {
  const live = useExecutionLive();
  const query = useQuery({
    queryKey: ["execution", executionId, "dag"],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/executions/{execution_id}/dag", {
          params: { path: { execution_id: executionId } },
          signal,
        }),
      ),
  });
  if (query.isPending) return <Loading what="the DAG" />;
  if (query.isError) return <ErrorState error={query.error} what="the DAG" retry={() => void query.refetch()} />;
  return <DagCanvas dag={query.data} liveRoutes={live.counts.routes} />;
}

function pickCounts(node: DagNode, live: StatsCounts | undefined): StatsCounts {
  // Progress events are newer than the last DAG fetch while the run moves;
  // the fetched (final) counts win once the DAG says the run is over.
  const fetched: StatsCounts = node.stats ?? {
    received: 0,
    processed: 0,
    failed: 0,
    filtered: 0,
    cancelled: 0,
    in_flight: 0,
    lost: 0,
  };
  if (!live) return fetched;
  return live.received >= fetched.received ? live : fetched;
}

// Layout depends on the graph's shape only, never on the counts: computed
// once per shape, not on every live update.
const layouts = new Map<string, Positioned[]>();
function cachedLayout(dag: Dag): Positioned[] {
  const key = `${dag.nodes.map((n) => n.id).join("|")}#${dag.edges.map((e) => `${e.source}>${e.target}`).join("|")}`;
  let positions = layouts.get(key);
  if (!positions) {
    if (layouts.size > 20) layouts.clear();
    positions = layoutDag(dag.nodes, dag.edges);
    layouts.set(key, positions);
  }
  return positions;
}

function DagCanvas({ dag, liveRoutes }: { dag: Dag; liveRoutes: Record<string, StatsCounts> }) {
  const positions = cachedLayout(dag);
  const nodes: RouteFlowNode[] = dag.nodes.map((route) => {
    const at = positions.find((p) => p.id === route.id) ?? { x: 0, y: 0 };
    return {
      id: route.id,
      type: "route",
      position: { x: at.x, y: at.y },
      data: { route, counts: pickCounts(route, liveRoutes[route.id]) },
      draggable: false,
      connectable: false,
    };
  });
  const upstreams = new Map<string, number>();
  for (const edge of dag.edges) upstreams.set(edge.target, (upstreams.get(edge.target) ?? 0) + 1);
  const messagesOf = (edge: DagEdge): number => liveEdgeCount(edge, upstreams, liveRoutes);
  const edges: Edge[] = dag.edges.map((edge) => ({
    id: `${edge.source}->${edge.target}`,
    source: edge.source,
    target: edge.target,
    label: `${count(messagesOf(edge))} msg`,
    animated: dag.status === "running",
    markerEnd: { type: MarkerType.ArrowClosed },
    className: "dag-edge",
    ariaLabel: `${edge.source} to ${edge.target}: ${messagesOf(edge)} messages`,
  }));
  return (
    <div className="dag" data-testid="dag" aria-label="Pipeline graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15 }}
        nodesDraggable={false}
        nodesConnectable={false}
        minZoom={0.2}
      >
        <Background gap={24} />
        <Controls showInteractive={false} />
      </ReactFlow>
      <ul className="sr-only">
        {dag.edges.map((edge) => (
          <li key={`${edge.source}->${edge.target}`} data-edge={`${edge.source}->${edge.target}`}>
            {edge.source} → {edge.target}: <span data-edge-messages>{messagesOf(edge)}</span> messages
          </li>
        ))}
      </ul>
    </div>
  );
}
