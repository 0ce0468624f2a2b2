#include "http/dashboard.h"

#include <array>

#include <openssl/evp.h>

namespace we::serving {
namespace {

constexpr std::string_view kStyle = R"CSS(
body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222}
h1{font-size:1.3em;margin:0}h2{font-size:1.1em;margin:1.2em 0 .3em}
header a{margin-right:1em}
table{border-collapse:collapse;margin:.3em 0}
td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right;vertical-align:middle}
th:first-child,td:first-child,td.t{text-align:left}
th{background:#f3f3f3}
.n{color:#777;font-size:.85em}
#status{color:#555}#status.err{color:#b00}
svg{display:block}
)CSS";

// The report's model (tools/report_model.cc) and grammar (tools/report_select.cc) in JavaScript;
// keep the two in step (tests/e2e/page_browser_test.sh compares them). globRe is GlobMatch
// (tools/report_select.h): * and ? match any code point (the "u" flag), [...] a set ([!...] or
// [^...] negated). No //
// comments inside: the page is checked to hold no "//" at all (tests/http/dashboard_test.cc).
constexpr std::string_view kScript = R"JS(
"use strict";
const B=document.body,errs=[];
function fail(m){errs.push(String(m));B.dataset.errors=errs.join("\n");const s=document.getElementById("status");s.className="err";s.textContent=errs.join("; ");}
addEventListener("error",e=>fail(e.message));
addEventListener("unhandledrejection",e=>fail(e.reason));
document.addEventListener("securitypolicyviolation",e=>fail("CSP: "+e.violatedDirective));
function el(t,p,x){const e=document.createElement(t);if(x!==undefined)e.textContent=x;if(p)p.appendChild(e);return e;}
const FIG=[["Startup time (s)","startup_seconds",1,0],["Idle memory (MiB)","memory_idle_bytes",1/1048576,1],
["Peak memory (MiB)","memory_peak_bytes",1/1048576,1],["Idle CPU (cores)","cpu_idle_cores",1,1],["Peak CPU (cores)","cpu_peak_cores",1,1],
["Startup to listening (s)","listen_seconds",1,0,1],["Startup to first response (s)","ready_seconds",1,0,1],["Response time (ms)","probe_response_seconds",1000,0,1]];
const KINDS=["vm","container"];
function esc(c){return c.replace(/[\\^$.*+?()[\]{}|\/]/g,"\\$&");}
function globRe(g){let r="";for(let i=0;i<g.length;i++){const c=g[i];
if(c==="*")r+="[\\s\\S]*";else if(c==="?")r+="[\\s\\S]";
else if(c==="\\"&&i+1<g.length)r+=esc(g[++i]);
else if(c==="["){let j=i+1;if(g[j]==="!"||g[j]==="^")j++;if(g[j]==="]")j++;const k=g.indexOf("]",j);
if(k<0){r+="\\[";continue;}let b=g.slice(i+1,k),neg=b[0]==="!"||b[0]==="^";if(neg)b=b.slice(1);
r+="["+(neg?"^":"")+b.replace(/[\\\]^]/g,"\\$&")+"]";i=k;}else r+=esc(c);}
return new RegExp("^(?:"+r+")$","u");}
function parseSel(t){const a=t.search(/[=!]/);if(a<0)throw new Error('select "'+t+'": expected key=value, key!=value, key=~regex or key!~regex');
let op,v;if(t[a]==="="){op=t[a+1]==="~"?"=~":"=";v=a+op.length;}else if(t[a+1]==="="||t[a+1]==="~"){op="!"+t[a+1];v=a+2;}
else throw new Error('select "'+t+'": \'!\' must be followed by \'=\' or \'~\'');
const key=t.slice(0,a),val=t.slice(v);if(!/^[A-Za-z0-9_]+$/.test(key))throw new Error('select "'+t+'": a key is a label name');
const re=op[1]==="~"?new RegExp("^(?:"+val+")$"):/[*?[]/.test(val)?globRe(val):null;
return {key,neg:op[0]==="!",test:s=>re?re.test(s):s===val};}
function label(w,k){const v=["name","id","runtime","kind"].includes(k)?w[k]:(w.labels||{})[k];return typeof v==="string"?v:"";}
function nameMatches(p,n){return /[*?[]/.test(p)?globRe(p).test(n):p===n;}
function seconds(d){let s=0,m,n=0;const re=/(\d+)(ms|s|m|h|d|w|y)/g,u={ms:.001,s:1,m:60,h:3600,d:86400,w:604800,y:31536000};
while((m=re.exec(d))){s+=m[1]*u[m[2]];n+=m[0].length;}return n===d.length&&n?s:null;}
function cells(){return FIG.map(()=>({sum:0,n:0,of:0,missing:{}}));}
function add(cs,fs,why){cs.forEach((c,i)=>{c.of++;if(fs[i]!==null){c.sum+=fs[i];c.n++;}else c.missing[why[i]]=(c.missing[why[i]]||0)+1;});}
function model(doc,q){
const sels=q.getAll("select").map(parseSel),gp=q.get("group_pattern"),gb=q.get("group_by")||(gp?"name":""),cmp=q.getAll("compare");
let win="",ws=0;for(const l of doc.windows||[]){const s=seconds(l);if(s!==null&&s>ws){ws=s;win=l;}}
const m={win,groups:[],runtimes:{},lines:[],total:(doc.workloads||[]).length,ungrouped:0,sels:q.getAll("select")};
const pairs=[];if(cmp.length){if(q.get("group_by")||gp)throw new Error("compare makes its own groups: not with group_by or group_pattern");
if(cmp.length%2)throw new Error("compare comes in pairs: vm:NAME and container:NAME");
for(let i=0;i<cmp.length;i+=2){const p={};for(const a of [cmp[i],cmp[i+1]]){if(a.startsWith("vm:")&&a.length>3&&!("vm" in p))p.vm=a.slice(3);
else if(a.startsWith("container:")&&a.length>10&&!("container" in p))p.container=a.slice(10);}
if(!("vm" in p&&"container" in p))throw new Error('compare "'+cmp[i]+'" "'+cmp[i+1]+'": expected vm:NAME container:NAME');
pairs.push(p);m.groups.push({name:"vm:"+p.vm+" container:"+p.container,kinds:{}});}}
else if(!gb)m.groups.push({name:"",kinds:{}});
if(gb&&!/^[A-Za-z0-9_]+$/.test(gb))throw new Error('group_by "'+gb+'": a key is a label name');
const pre=gp?new RegExp("^(?:"+gp+")$"):null,index={};
for(const w of doc.workloads||[]){
if(!sels.every(s=>s.test(label(w,s.key))!==s.neg))continue;
const wd=(w.windows||{})[win]||{},fs=[],why=[];
for(const f of FIG){const v=f[3]?wd[f[1]]:w[f[1]];fs.push(typeof v==="number"?v*f[2]:null);
why.push(typeof v==="number"?"":f[3]?(f[1].startsWith("cpu")?"no CPU figure in the window yet":"no memory figure in the window yet"):
f[1]==="listen_seconds"?"no listening socket seen since its start":f[4]?(typeof w.probe_success==="number"?"no successful probe yet":"no ready probe configured"):
"startup: "+(w.startup_state||"unknown").replace(/_/g," "));}
const line={w,fs,groups:[]},inn=[];
if(pairs.length)pairs.forEach((p,i)=>{if((w.kind==="vm"&&nameMatches(p.vm,w.name))||(w.kind==="container"&&nameMatches(p.container,w.name)))inn.push(i);});
else if(gb){let n=label(w,gb);if(pre){const x=pre.exec(n);n=x&&x[1]!==undefined?x[1]:"";}
if(n){if(!(n in index)){index[n]=m.groups.length;m.groups.push({name:n,kinds:{}});}inn.push(index[n]);}}
else inn.push(0);
if(!inn.length)m.ungrouped++;
for(const g of inn){const G=m.groups[g];line.groups.push(G.name);add(G.kinds[w.kind]||(G.kinds[w.kind]=cells()),fs,why);}
const rk=w.kind+" "+w.runtime;add((m.runtimes[rk]||(m.runtimes[rk]={kind:w.kind,runtime:w.runtime,cells:cells()})).cells,fs,why);
m.lines.push(line);}
if(gb&&!pairs.length)m.groups.sort((a,b)=>a.name<b.name?-1:a.name>b.name?1:0);
return m;}
function shown(m,i){return !FIG[i][4]||m.lines.some(l=>l.fs[i]!==null);}
function num(v){if(v===null||v===undefined)return "\u2014";const a=Math.abs(v);return v.toFixed(a>=100?0:a>=1?2:3);}
function cell(tr,c,fi){const td=el("td",tr);if(!c){td.textContent="\u2014";return;}
const mean=c.n?c.sum/c.n:null;td.textContent=num(mean);if(mean!==null)td.dataset.value=String(mean);td.dataset.figure=FIG[fi][1];
el("span",td," ("+c.n+"/"+c.of+")").className="n";
const miss=Object.entries(c.missing).map(e=>e[1]+": "+e[0]).join("; ");if(miss)td.title=miss;}
function table(p,heads){const t=el("table",p),h=el("tr",el("thead",t));for(const x of heads)el("th",h,x);return el("tbody",t);}
function plot(td,vals,fig,unit){const W=160,H=30,NS="http://www.w3.org/2000/svg";const pts=(vals||[]);
const s=document.createElementNS(NS,"svg");s.setAttribute("width",W);s.setAttribute("height",H);s.setAttribute("viewBox","0 0 "+W+" "+H);
const got=pts.filter(v=>v!==null),max=Math.max(...got,fig||0,1e-9);
const t=document.createElementNS(NS,"title");t.textContent=got.length?got.length+" values, max "+num(max*unit)+", last "+num(got[got.length-1]*unit):"no values yet";s.appendChild(t);
if(fig!==null&&fig!==undefined){const l=document.createElementNS(NS,"line"),y=(H-1-(fig/max)*(H-2)).toFixed(1);
for(const [k,v] of [["x1",0],["x2",W],["y1",y],["y2",y],["stroke","#aaa"],["stroke-dasharray","3 2"]])l.setAttribute(k,v);s.appendChild(l);}
let d="",pen=false;const dx=pts.length>1?W/(pts.length-1):0;
pts.forEach((v,i)=>{if(v===null){pen=false;return;}d+=(pen?"L":"M")+(i*dx).toFixed(1)+" "+(H-1-(v/max)*(H-2)).toFixed(1);pen=true;});
const path=document.createElementNS(NS,"path");path.setAttribute("d",d);path.setAttribute("fill","none");path.setAttribute("stroke","#1565c0");s.appendChild(path);
td.appendChild(s);}
let series=null;
function render(doc,m){const main=document.getElementById("main");main.replaceChildren();
const st=document.getElementById("status");st.className="";
st.textContent=(doc.time?"snapshot "+new Date(doc.time*1000).toISOString().replace(".000","")+" \u00b7 ":"")+"window "+(m.win||"none")+" \u00b7 "+m.lines.length+" of "+m.total+" workloads"+(m.sels.length?" where "+m.sels.join(", "):"")+(m.ungrouped?" \u00b7 "+m.ungrouped+" in no group":"");
for(const g of m.groups){if(g.name)el("h2",main,g.name);else el("h2",main,"VM against container");
const tb=table(main,["Figure","VM","Container","Difference"]);tb.parentNode.className="cmp";tb.parentNode.dataset.group=g.name;
FIG.forEach((f,i)=>{if(!shown(m,i))return;const tr=el("tr",tb);el("td",tr,f[0]);for(const k of KINDS){cell(tr,g.kinds[k]?g.kinds[k][i]:null,i);tr.lastChild.dataset.kind=k;}
const a=g.kinds.vm&&g.kinds.vm[i],b=g.kinds.container&&g.kinds.container[i];
const va=a&&a.n?a.sum/a.n:null,vb=b&&b.n?b.sum/b.n:null;el("td",tr,va&&vb!==null?(vb>=va?"+":"")+((vb-va)/va*100).toFixed(0)+"%":"\u2014");});}
const rts=Object.values(m.runtimes).sort((a,b)=>(a.kind+" "+a.runtime)<(b.kind+" "+b.runtime)?-1:1);
if(rts.length&&!m.groups.some(g=>g.name)){el("h2",main,"Per runtime");const tb=table(main,["Kind","Runtime"].concat(FIG.filter((f,i)=>shown(m,i)).map(f=>f[0])));
for(const r of rts){const tr=el("tr",tb);el("td",tr,r.kind);el("td",tr,r.runtime).className="t";r.cells.forEach((c,i)=>{if(shown(m,i))cell(tr,c,i);});}}
el("h2",main,"Workloads ("+(m.win||"no")+" window; plots: up to the last "+(series&&series.kept?series.slots*series.interval_seconds+" s":"minutes")+", per "+(series?series.interval_seconds:"")+" s)");
const tb=table(main,["Kind","Runtime","Name","Idle CPU","Peak CPU","CPU","Idle MiB","Peak MiB","Memory"]);tb.parentNode.id="workloads";
const by={};if(series&&series.kept)for(const s of series.workloads)by[s.kind+"\0"+s.runtime+"\0"+s.id]=s;
for(const {w,fs} of m.lines){const tr=el("tr",tb),s=by[w.kind+"\0"+w.runtime+"\0"+w.id],wd=(w.windows||{})[m.win]||{};
tr.dataset.id=w.id;tr.dataset.kind=w.kind;el("td",tr,w.kind).className="t";el("td",tr,w.runtime).className="t";
const n=el("td",tr,w.name);n.className="t";n.title=w.id;
for(const [i,k] of [[3,"cpu_idle_cores"],[4,"cpu_peak_cores"]]){const c=el("td",tr,num(fs[i]));c.dataset.figure=k;if(fs[i]!==null)c.dataset.value=String(fs[i]);}
plot(el("td",tr),s&&s.cpu_cores,wd.cpu_idle_cores,1);
for(const [i,k] of [[1,"memory_idle_bytes"],[2,"memory_peak_bytes"]]){const c=el("td",tr,num(fs[i]));c.dataset.figure=k;if(fs[i]!==null)c.dataset.value=String(fs[i]);}
plot(el("td",tr),s&&s.memory_bytes,wd.memory_idle_bytes,1/1048576);}}
async function get(u){const r=await fetch(new URL(u,location.origin+location.pathname),{credentials:"same-origin",cache:"no-store"});if(!r.ok)throw new Error(u+": HTTP "+r.status);return r.json();}
async function load(){const q=new URLSearchParams(location.search);
const doc=await get("api/v1/workloads"),m=model(doc,q);render(doc,m);
for(let i=0;i<6;i++){series=await get("api/v1/workloads/series");if(series.kept)break;
await new Promise(r=>setTimeout(r,Math.max(200,1000*(series.interval_seconds||1))+100));}
render(doc,m);B.dataset.state="ready";
const every=Number(q.has("refresh")?q.get("refresh"):10);if(every>0)setTimeout(()=>load().catch(fail),every*1000);}
load().catch(fail);
)JS";

constexpr std::string_view kHead =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\n"
    "<title>workload_exporter</title><link rel=\"icon\" href=\"data:,\">\n"
    "<style>";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string_view DashboardScript() { return kScript; }
std::string_view DashboardStyle() { return kStyle; }

std::string CspHash(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> base64{};
  const int n = EVP_EncodeBlock(base64.data(), digest.data(), static_cast<int>(length));
  return "sha256-" + std::string(reinterpret_cast<const char*>(base64.data()), static_cast<std::size_t>(n));
}

const std::string& DashboardContentSecurityPolicy() {
  // Nothing but the page's own script and style, and fetches to its own origin; no frames, no
  // forms, no <base>. img-src data: for the empty icon, which spares the browser a request for
  // /favicon.ico (a 404 in its console).
  static const std::string kPolicy = "default-src 'none'; script-src '" + CspHash(kScript) + "'; style-src '" +
                                     CspHash(kStyle) +
                                     "'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
                                     "frame-ancestors 'none'";
  return kPolicy;
}

std::string DashboardPage(std::string_view telemetry_path) {
  const std::string metrics = HtmlEscape(telemetry_path);
  std::string page(kHead);
  page += kStyle;
  page +=
      "</style></head>\n"
      "<body data-state=\"loading\">\n"
      "<header><h1>workload_exporter</h1>\n"
      "<nav><a href=\"" +
      metrics + "\">Metrics</a><a href=\"api/v1/workloads\">Workloads JSON</a>" +
      "<a href=\"api/v1/workloads/series\">Series JSON</a><a href=\"-/healthy\">Health</a>"
      "<a href=\"-/ready\">Readiness</a></nav></header>\n"
      "<p id=\"status\">Loading\xE2\x80\xA6</p>\n"
      "<main id=\"main\"></main>\n"
      "<noscript><p>The tables need JavaScript; the same figures are at <a href=\"api/v1/workloads\">"
      "api/v1/workloads</a> and <a href=\"" +
      metrics + "\">" + metrics +
      "</a>.</p></noscript>\n"
      "<script>";
  page += kScript;
  page +=
      "</script>\n"
      "</body>\n"
      "</html>\n";
  return page;
}

}  // namespace we::serving
